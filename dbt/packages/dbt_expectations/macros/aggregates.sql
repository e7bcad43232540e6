{#-
    dbt-expectations-compatible tests on aggregates of one column (per `group_by` group when given);
    each fails with one row per failing group, its aggregate in `expression_value`.
-#}

{#-
    The column's distinct values (within `row_condition`) against `value_set`: `equal` fails with
    values missing from either side, `in_set` with values outside the set, `contain` with set values
    missing from the data. As in dbt-expectations, a null value counts as a value outside the set.
-#}
{% macro _dq_distinct_values_vs_set(model, column_name, value_set, quote_values=true, row_condition=none, mode="equal") %}
with all_values as (

    select distinct {{ column_name }} as column_value
    from {{ model }}
    {{ dbt_utils._dq_where([row_condition]) }}

),

set_values as (
    {{ dbt_utils._dq_literal_rows(value_set, "value_field", quote_values) }}
),

unique_set_values as (

    select distinct value_field
    from set_values

)

{% if mode == "equal" -%}
select
    all_values.column_value,
    unique_set_values.value_field
from all_values
full outer join unique_set_values
    on all_values.column_value = unique_set_values.value_field
where all_values.column_value is null or unique_set_values.value_field is null
{%- elif mode == "in_set" -%}
select all_values.column_value
from all_values
left anti join unique_set_values
    on all_values.column_value = unique_set_values.value_field
{%- else -%}
select unique_set_values.value_field
from unique_set_values
left anti join all_values
    on unique_set_values.value_field = all_values.column_value
{%- endif %}
{% endmacro %}


{% test expect_column_distinct_values_to_equal_set(model, column_name, value_set, quote_values=true, row_condition=none) %}
{{ dbt_expectations._dq_distinct_values_vs_set(model, column_name, value_set, quote_values, row_condition, "equal") }}
{% endtest %}


{% test expect_column_distinct_values_to_be_in_set(model, column_name, value_set, quote_values=true, row_condition=none) %}
{{ dbt_expectations._dq_distinct_values_vs_set(model, column_name, value_set, quote_values, row_condition, "in_set") }}
{% endtest %}


{% test expect_column_distinct_values_to_contain_set(
    model,
    column_name,
    value_set,
    quote_values=true,
    row_condition=none
) %}
{{ dbt_expectations._dq_distinct_values_vs_set(model, column_name, value_set, quote_values, row_condition, "contain") }}
{% endtest %}


{#- `quote_values` is accepted for compatibility and has no effect (the count is a number). -#}
{% test expect_column_distinct_count_to_equal(
    model,
    column_name,
    value,
    quote_values=false,
    group_by=none,
    row_condition=none
) %}
{{ dbt_utils._dq_failing_groups(
    model, "count(distinct " ~ column_name ~ ")", "expression_value = " ~ value, group_by, row_condition
) }}
{% endtest %}


{% test expect_column_distinct_count_to_be_greater_than(
    model,
    column_name,
    value,
    quote_values=false,
    group_by=none,
    row_condition=none
) %}
{{ dbt_utils._dq_failing_groups(
    model, "count(distinct " ~ column_name ~ ")", "expression_value > " ~ value, group_by, row_condition
) }}
{% endtest %}


{% test expect_column_distinct_count_to_be_less_than(
    model,
    column_name,
    value,
    quote_values=false,
    group_by=none,
    row_condition=none
) %}
{{ dbt_utils._dq_failing_groups(
    model, "count(distinct " ~ column_name ~ ")", "expression_value < " ~ value, group_by, row_condition
) }}
{% endtest %}


{#- Aggregate `expression` between the bounds, per group: the shape of every *_to_be_between test below. -#}
{% macro _dq_aggregate_between(model, expression, min_value, max_value, group_by, row_condition, strictly) %}
{{ dbt_utils._dq_failing_groups(
    model,
    expression,
    dbt_utils._dq_between("expression_value", min_value, max_value, strictly),
    group_by,
    row_condition
) }}
{% endmacro %}


{% test expect_column_unique_value_count_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(
    model, "count(distinct " ~ column_name ~ ")", min_value, max_value, group_by, row_condition, strictly
) }}
{% endtest %}


{#- Distinct non-null values over non-null values; a group of nulls only has no proportion and passes. -#}
{% test expect_column_proportion_of_unique_values_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(
    model,
    dbt_utils._dq_ratio("count(distinct " ~ column_name ~ ")", "count(" ~ column_name ~ ")"),
    min_value,
    max_value,
    group_by,
    row_condition,
    strictly
) }}
{% endtest %}


{% test expect_column_min_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(model, "min(" ~ column_name ~ ")", min_value, max_value, group_by, row_condition, strictly) }}
{% endtest %}


{% test expect_column_max_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(model, "max(" ~ column_name ~ ")", min_value, max_value, group_by, row_condition, strictly) }}
{% endtest %}


{% test expect_column_mean_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(model, "avg(" ~ column_name ~ ")", min_value, max_value, group_by, row_condition, strictly) }}
{% endtest %}


{#- Exact (interpolated) median, as percentile_cont(0.5) on other warehouses. -#}
{% test expect_column_median_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(
    model, "percentile(" ~ column_name ~ ", 0.5)", min_value, max_value, group_by, row_condition, strictly
) }}
{% endtest %}


{% test expect_column_quantile_values_to_be_between(
    model,
    column_name,
    quantile,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(
    model, "percentile(" ~ column_name ~ ", " ~ quantile ~ ")", min_value, max_value, group_by, row_condition, strictly
) }}
{% endtest %}


{% test expect_column_sum_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(model, "sum(" ~ column_name ~ ")", min_value, max_value, group_by, row_condition, strictly) }}
{% endtest %}


{#- Sample standard deviation (stddev_samp). -#}
{% test expect_column_stdev_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_expectations._dq_aggregate_between(
    model, "stddev_samp(" ~ column_name ~ ")", min_value, max_value, group_by, row_condition, strictly
) }}
{% endtest %}


{#- The column's distinct count equals that of `compare_column_name` (default: the same name) in `compare_model`. -#}
{% test expect_column_distinct_count_to_equal_other_table(
    model,
    compare_model,
    column_name,
    compare_column_name=none,
    row_condition=none,
    compare_row_condition=none
) %}
{{ dbt_utils._dq_compare_aggregates(
    model,
    "count(distinct " ~ column_name ~ ")",
    compare_model=compare_model,
    compare_expression="count(distinct " ~ (compare_column_name or column_name) ~ ")",
    row_condition=row_condition,
    compare_row_condition=compare_row_condition
) }}
{% endtest %}


{#-
    The `top_n` most frequent values (ties share a rank, nulls left out) are all in `value_set`,
    compared as strings, or as `data_type` when `quote_values` is false. Fails with each frequent
    value outside the set, its count and rank.
-#}
{% test expect_column_most_common_value_to_be_in_set(
    model,
    column_name,
    value_set,
    top_n,
    quote_values=true,
    data_type="decimal",
    row_condition=none
) %}
{%- set value_type = dbt.type_string() if quote_values else data_type -%}
{%- set as_value = "cast(" ~ column_name ~ " as " ~ value_type ~ ")" -%}
{%- set set_values = [] -%}
{%- for value in value_set -%}
    {%- do set_values.append(
        "cast(" ~ ("'" ~ dbt.escape_single_quotes(value | string) ~ "'" if quote_values else value) ~ " as " ~ value_type ~ ")"
    ) -%}
{%- endfor %}
with value_counts as (

    select
        {{ as_value }} as value_field,
        count(*) as value_count
    from {{ model }}
    {{ dbt_utils._dq_where([column_name ~ " is not null", row_condition]) }}
    group by {{ as_value }}

),

ranked as (

    select
        *,
        rank() over (order by value_count desc) as value_count_rank
    from value_counts

),

set_values as (
    {{ dbt_utils._dq_literal_rows(set_values, "value_field", quote=false) }}
)

select ranked.*
from ranked
left anti join set_values
    on ranked.value_field = set_values.value_field
where ranked.value_count_rank <= {{ top_n }}
{% endtest %}
