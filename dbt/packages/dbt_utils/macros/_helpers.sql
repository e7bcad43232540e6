{#-
    Private helpers shared by the generic tests of this package and of dbt_expectations: each renders one
    fragment of Spark SQL, so every test reads as "which rows fail" and nothing is written twice.
-#}

{#- A list from a list, a single value or nothing (group_by arguments accept all three). -#}
{% macro _dq_as_list(value) -%}
    {%- if value is none or value == "" -%}
        {{ return([]) }}
    {%- elif value is string -%}
        {{ return([value]) }}
    {%- else -%}
        {{ return(value | list) }}
    {%- endif -%}
{%- endmacro %}


{#- `where (a) and (b)` for the conditions that are set, or nothing when none is. -#}
{% macro _dq_where(conditions) -%}
    {%- set kept = [] -%}
    {%- for condition in conditions if condition and (condition | string | trim) -%}
        {%- do kept.append("(" ~ (condition | string | trim) ~ ")") -%}
    {%- endfor -%}
    {%- if kept %}where {{ kept | join(" and ") }}{% endif -%}
{%- endmacro %}


{#- `expression >= min and expression <= max` (strict with `strictly`), for whichever bounds are set. -#}
{% macro _dq_between(expression, min_value=none, max_value=none, strictly=false) -%}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("You have to provide either a min_value, max_value or both.") }}
    {%- endif -%}
    {%- set bounds = [] -%}
    {%- if min_value is not none -%}
        {%- do bounds.append(expression ~ (" > " if strictly else " >= ") ~ min_value) -%}
    {%- endif -%}
    {%- if max_value is not none -%}
        {%- do bounds.append(expression ~ (" < " if strictly else " <= ") ~ max_value) -%}
    {%- endif -%}
    {{ bounds | join(" and ") }}
{%- endmacro %}


{#- The rows of `model` (within `row_condition`) for which the boolean `expression` is false; null passes. -#}
{% macro _dq_failing_rows(model, expression, row_condition=none) %}
select *
from {{ model }}
{{ dbt_utils._dq_where([row_condition, "not (" ~ (expression | trim) ~ ")"]) }}
{% endmacro %}


{#-
    One row per group (one row without `group_by`) whose aggregate `expression`, exposed as
    `value_column`, does not satisfy `condition` (written in terms of `value_column`).
-#}
{% macro _dq_failing_groups(
    model,
    expression,
    condition,
    group_by=none,
    row_condition=none,
    value_column="expression_value"
) %}
{%- set group_by = dbt_utils._dq_as_list(group_by) %}
with grouped as (

    select
        {%- for column in group_by %}
        {{ dbt_utils._dq_group_select(column, loop.index) }},
        {%- endfor %}
        {{ expression | trim }} as {{ value_column }}
    from {{ model }}
    {{ dbt_utils._dq_where([row_condition]) }}
    {%- if group_by %}
    group by {{ group_by | join(", ") }}
    {%- endif %}

)

select *
from grouped
where not ({{ condition | trim }})
{% endmacro %}


{#- A ratio as a decimal, null (not an error under ANSI mode) when the denominator is zero. -#}
{% macro _dq_ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ dbt.type_numeric() }}) / nullif(cast({{ denominator }} as {{ dbt.type_numeric() }}), 0)
{%- endmacro %}


{#-
    `select <value> as <column> union all ...`, one row per value: quoted as strings unless `quote`
    is false (then rendered as SQL), numbered from 1 in `index_column` when that is given.
-#}
{% macro _dq_literal_rows(values, column, quote=true, index_column=none) %}
    {%- if not values -%}
        {{ exceptions.raise_compiler_error("The list of values for `" ~ column ~ "` must not be empty.") }}
    {%- endif -%}
    {%- for value in values %}
    select
        {% if quote -%}
        cast('{{ dbt.escape_single_quotes(value | string) }}' as {{ dbt.type_string() }})
        {%- else -%}
        {{ value }}
        {%- endif %} as {{ column }}
        {%- if index_column %},
        {{ loop.index }} as {{ index_column }}
        {%- endif %}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{% endmacro %}


{#- The relation's column names, passed through a Jinja filter such as `upper` or `lower`. -#}
{% macro _dq_column_names(model, transform="upper") %}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(model) -%}
        {%- do names.append(column.name | string) -%}
    {%- endfor -%}
    {{ return(names | map(transform) | list) }}
{% endmacro %}


{#-
    A Spark regex literal: `flags` become Java embedded flags (`(?i)`), `is_raw` a raw literal `r'...'`.
    Flags Java cannot honour (dbt-expectations passes them on to other engines, e.g. PostgreSQL's `c`
    or BigQuery's) are left out with a warning when the test runs, rather than failing the parse.
-#}
{% macro _dq_regex(regex, is_raw=false, flags="") -%}
    {%- set supported = [] -%}
    {%- set ignored = [] -%}
    {%- for flag in (flags or "") -%}
        {%- do (supported if flag in "dimsuxU" else ignored).append(flag) -%}
    {%- endfor -%}
    {%- if ignored and execute -%}
        {%- do exceptions.warn(
            "regex flags '" ~ (ignored | join("")) ~ "' are not Java regex flags (d, i, m, s, u, x, U): Spark "
            ~ "ignores them in '" ~ regex ~ "'"
        ) -%}
    {%- endif -%}
    {%- set pattern = ("(?" ~ (supported | join("")) ~ ")" if supported else "") ~ regex -%}
    {%- if is_raw -%}
        r'{{ pattern }}'
    {%- else -%}
        '{{ dbt.escape_single_quotes(pattern) }}'
    {%- endif -%}
{%- endmacro %}


{#- Joins conditions with `or` (match_on any) or `and` (match_on all). -#}
{% macro _dq_match_on(conditions, match_on="any") -%}
    {%- if match_on not in ["any", "all"] -%}
        {{ exceptions.raise_compiler_error("match_on must be 'any' or 'all', got '" ~ match_on ~ "'") }}
    {%- endif -%}
    ({{ conditions | join(") and (" if match_on == "all" else ") or (") }})
{%- endmacro %}


{#- `interval` `datepart`s before `now` (the server's clock by default), cast to `data_type` (a timestamp by default). -#}
{% macro _dq_recency_threshold(datepart, interval, data_type=none, now=none) -%}
    cast({{ dbt.dateadd(datepart, interval * -1, now or dbt.current_timestamp()) }} as {{ data_type or dbt.type_timestamp() }})
{%- endmacro %}


{#- An output column name for a group-by expression: itself when it is a plain name, else group_<n>. -#}
{% macro _dq_group_alias(expression, index) -%}
    {%- if modules.re.match("^[A-Za-z_][A-Za-z0-9_]*$", expression | trim) -%}
        {{ expression | trim }}
    {%- else -%}
        group_{{ index }}
    {%- endif -%}
{%- endmacro %}


{#- A group-by expression in a select list, aliased with `_dq_group_alias` unless it is a plain name. -#}
{% macro _dq_group_select(expression, index) -%}
    {%- set alias = dbt_utils._dq_group_alias(expression, index) -%}
    {{ expression | trim }}{{ " as " ~ alias if alias != (expression | trim) }}
{%- endmacro %}


{#-
    Compares an aggregate of `model` with one of `compare_model`, per group when `group_by` is given
    (groups are matched by position between `group_by` and `compare_group_by`, nulls matching nulls).
    Fails with one row per group whose difference exceeds `tolerance`, or `tolerance_percent` (a
    fraction) of the model's value. Unset compare_* arguments default to their model-side values.
-#}
{% macro _dq_compare_aggregates(
    model,
    expression,
    compare_model=none,
    compare_expression=none,
    group_by=none,
    compare_group_by=none,
    row_condition=none,
    compare_row_condition=none,
    tolerance=0.0,
    tolerance_percent=none
) %}
{%- set compare_model = compare_model or model -%}
{%- set compare_expression = compare_expression or expression -%}
{%- set compare_row_condition = compare_row_condition or row_condition -%}
{%- set group_by = dbt_utils._dq_as_list(group_by) -%}
{%- set compare_group_by = dbt_utils._dq_as_list(compare_group_by) or group_by -%}
{%- if group_by | length != compare_group_by | length -%}
    {{ exceptions.raise_compiler_error("group_by and compare_group_by must have the same number of columns.") }}
{%- endif %}
with model_values as (

    select
        {%- for column in group_by %}
        {{ column }} as group_{{ loop.index }},
        {%- endfor %}
        {{ expression }} as expression_value
    from {{ model }}
    {{ dbt_utils._dq_where([row_condition]) }}
    {%- if group_by %}
    group by {{ group_by | join(", ") }}
    {%- endif %}

),

compare_values as (

    select
        {%- for column in compare_group_by %}
        {{ column }} as group_{{ loop.index }},
        {%- endfor %}
        {{ compare_expression }} as expression_value
    from {{ compare_model }}
    {{ dbt_utils._dq_where([compare_row_condition]) }}
    {%- if compare_group_by %}
    group by {{ compare_group_by | join(", ") }}
    {%- endif %}

),

compared as (

    select
        {%- for column in group_by %}
        coalesce(model_values.group_{{ loop.index }}, compare_values.group_{{ loop.index }})
            as {{ dbt_utils._dq_group_alias(column, loop.index) }},
        {%- endfor %}
        model_values.expression_value,
        compare_values.expression_value as compare_expression_value,
        abs(coalesce(model_values.expression_value, 0) - coalesce(compare_values.expression_value, 0))
            as expression_difference,
        {{ dbt_utils._dq_ratio(
            "abs(coalesce(model_values.expression_value, 0) - coalesce(compare_values.expression_value, 0))",
            "abs(model_values.expression_value)"
        ) }} as expression_difference_percent
    from model_values
    {%- if group_by %}
    full outer join compare_values
        on
        {%- for column in group_by %}
        {{ "and " if not loop.first }}model_values.group_{{ loop.index }} <=> compare_values.group_{{ loop.index }}
        {%- endfor %}
    {%- else %}
    cross join compare_values
    {%- endif %}

)

select *
from compared
{%- if tolerance_percent %}
where expression_difference > {{ tolerance_percent }} * abs(coalesce(expression_value, 0))
{%- else %}
where expression_difference > {{ tolerance or 0 }}
{%- endif %}
{% endmacro %}


{#-
    One row per combination of `columns` occurring more than once, with its count in `count_column`.
    `ignore_row_if` (all_values_are_missing | any_value_is_missing) skips rows with missing values;
    without it, nulls form a combination like any other value.
-#}
{% macro _dq_duplicates(model, columns, row_condition=none, ignore_row_if=none, count_column="n_records") %}
{%- if not columns -%}
    {{ exceptions.raise_compiler_error("The list of columns to check for uniqueness must not be empty.") }}
{%- endif -%}
{%- set missing = none -%}
{%- if ignore_row_if -%}
    {%- if ignore_row_if not in ["all_values_are_missing", "any_value_is_missing"] -%}
        {{ exceptions.raise_compiler_error(
            "ignore_row_if must be 'all_values_are_missing' or 'any_value_is_missing', got '" ~ ignore_row_if ~ "'"
        ) }}
    {%- endif -%}
    {%- set operator = " and " if ignore_row_if == "all_values_are_missing" else " or " -%}
    {%- set missing = "not (" ~ (columns | map("string") | map("trim") | join(" is null" ~ operator)) ~ " is null)" -%}
{%- endif %}
select
    {%- for column in columns %}
    {{ column }},
    {%- endfor %}
    count(*) as {{ count_column }}
from {{ model }}
{{ dbt_utils._dq_where([row_condition, missing]) }}
group by {{ columns | join(", ") }}
having count(*) > 1
{% endmacro %}


{#- The column names, each quoted with the adapter's quote character when `quote_columns` is true. -#}
{% macro _dq_quote_columns(columns, quote_columns=false) %}
    {%- set quoted = [] -%}
    {%- for column in columns -%}
        {%- do quoted.append(adapter.quote(column) if quote_columns else column) -%}
    {%- endfor -%}
    {{ return(quoted) }}
{% endmacro %}
