{#- dbt-expectations-compatible tests on the values of one column; each fails with the offending rows. -#}

{% test expect_column_values_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_utils._dq_failing_rows(model, dbt_utils._dq_between(column_name, min_value, max_value, strictly), row_condition) }}
{% endtest %}


{#- As in dbt-expectations, a null value is not in the set, so it fails. -#}
{% test expect_column_values_to_be_in_set(model, column_name, value_set, quote_values=true, row_condition=none) %}
with set_values as (
    {{ dbt_utils._dq_literal_rows(value_set, "value_field", quote_values) }}
),

model_rows as (

    select *
    from {{ model }}
    {{ dbt_utils._dq_where([row_condition]) }}

)

select model_rows.*
from model_rows
left anti join set_values
    on model_rows.{{ column_name }} = set_values.value_field
{% endtest %}


{% test expect_column_values_to_not_be_in_set(model, column_name, value_set, quote_values=true, row_condition=none) %}
with set_values as (
    {{ dbt_utils._dq_literal_rows(value_set, "value_field", quote_values) }}
),

model_rows as (

    select *
    from {{ model }}
    {{ dbt_utils._dq_where([row_condition]) }}

)

select model_rows.*
from model_rows
left semi join set_values
    on model_rows.{{ column_name }} = set_values.value_field
{% endtest %}


{% test expect_column_values_to_not_be_null(model, column_name, row_condition=none) %}
{{ dbt_utils._dq_failing_rows(model, column_name ~ " is not null", row_condition) }}
{% endtest %}


{% test expect_column_values_to_be_null(model, column_name, row_condition=none) %}
{{ dbt_utils._dq_failing_rows(model, column_name ~ " is null", row_condition) }}
{% endtest %}


{#- Nulls are ignored, as in dbt-expectations; fails with one row per duplicated value. -#}
{% test expect_column_values_to_be_unique(model, column_name, row_condition=none) %}
{{ dbt_utils._dq_duplicates(model, [column_name], row_condition, "all_values_are_missing") }}
{% endtest %}


{#-
    Each value compared with the previous one in `sort_column` order (per `group_by` group);
    fails with the rows that do not increase (or decrease). Nulls are skipped.
-#}
{% macro _dq_monotonic(
    model,
    column_name,
    operator,
    sort_column=none,
    row_condition=none,
    group_by=none,
    step=none
) %}
{%- set sort_column = sort_column or column_name -%}
{%- set group_by = dbt_utils._dq_as_list(group_by) %}
with all_values as (

    select
        {%- for column in group_by %}
        {{ dbt_utils._dq_group_select(column, loop.index) }},
        {%- endfor %}
        {{ sort_column }} as sort_column,
        {{ column_name }} as value_field
    from {{ model }}
    {{ dbt_utils._dq_where([row_condition]) }}

),

add_lag_values as (

    select
        *,
        lag(value_field) over (
            {%- if group_by %}
            partition by
            {%- for column in group_by %} {{ dbt_utils._dq_group_alias(column, loop.index) }}{{ "," if not loop.last }}
            {%- endfor %}
            {%- endif %}
            order by sort_column
        ) as value_field_lag
    from all_values

)

select *
from add_lag_values
where
    value_field_lag is not null
    and not (
        value_field {{ operator }} value_field_lag
        {%- if step is not none %}
        -- with a step, each value differs from the previous one by exactly `step`
        and abs(value_field - value_field_lag) = {{ step }}
        {%- endif %}
    )
{% endmacro %}


{% test expect_column_values_to_be_increasing(
    model,
    column_name,
    sort_column=none,
    strictly=true,
    row_condition=none,
    group_by=none,
    step=none
) %}
{{ dbt_expectations._dq_monotonic(model, column_name, ">" if strictly else ">=", sort_column, row_condition, group_by, step) }}
{% endtest %}


{% test expect_column_values_to_be_decreasing(
    model,
    column_name,
    sort_column=none,
    strictly=true,
    row_condition=none,
    group_by=none,
    step=none
) %}
{{ dbt_expectations._dq_monotonic(model, column_name, "<" if strictly else "<=", sort_column, row_condition, group_by, step) }}
{% endtest %}


{#-
    Every value is written in one casing only: no two distinct values are equal ignoring case. Fails
    with one row (the counts), or with one row per inconsistent value when `display_inconsistent_columns`.
-#}
{% test expect_column_values_to_have_consistent_casing(model, column_name, display_inconsistent_columns=false) %}
with distinct_values as (

    select distinct {{ column_name }} as distinct_value
    from {{ model }}
    where {{ column_name }} is not null

)
{%- if display_inconsistent_columns %}

select
    lower(distinct_value) as inconsistent_columns,
    count(*) as set_count_case_insensitive
from distinct_values
group by lower(distinct_value)
having count(*) > 1
{%- else %},

counts as (

    select
        count(*) as set_count,
        count(distinct lower(distinct_value)) as set_count_case_insensitive
    from distinct_values

)

select *
from counts
where set_count <> set_count_case_insensitive
{%- endif %}
{% endtest %}
