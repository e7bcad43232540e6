{#-
    dbt-expectations-compatible tests on string values. Regexes are Java regexes matched anywhere in the
    value (`rlike`); `is_raw` renders them as raw literals (r'...', no backslash escaping) and `flags`
    as embedded flags. Null values pass, as in dbt-expectations.
-#}

{#- One `rlike` condition per regex, negated when `positive` is false. -#}
{% macro _dq_regex_conditions(column_name, regex_list, positive=true, is_raw=false, flags="") %}
    {%- set conditions = [] -%}
    {%- for regex in regex_list -%}
        {%- do conditions.append(
            ("" if positive else "not ") ~ column_name ~ " rlike " ~ dbt_utils._dq_regex(regex, is_raw, flags)
        ) -%}
    {%- endfor -%}
    {{ return(conditions) }}
{% endmacro %}


{#- One `like` condition per pattern, negated when `positive` is false. -#}
{% macro _dq_like_conditions(column_name, like_pattern_list, positive=true) %}
    {%- set conditions = [] -%}
    {%- for pattern in like_pattern_list -%}
        {%- do conditions.append(
            column_name ~ (" like " if positive else " not like ") ~ "'" ~ dbt.escape_single_quotes(pattern) ~ "'"
        ) -%}
    {%- endfor -%}
    {{ return(conditions) }}
{% endmacro %}


{% test expect_column_values_to_match_regex(model, column_name, regex, row_condition=none, is_raw=false, flags="") %}
{%- set conditions = dbt_expectations._dq_regex_conditions(column_name, [regex], true, is_raw, flags) -%}
{{ dbt_utils._dq_failing_rows(model, conditions[0], row_condition) }}
{% endtest %}


{% test expect_column_values_to_not_match_regex(
    model,
    column_name,
    regex,
    row_condition=none,
    is_raw=false,
    flags=""
) %}
{%- set conditions = dbt_expectations._dq_regex_conditions(column_name, [regex], false, is_raw, flags) -%}
{{ dbt_utils._dq_failing_rows(model, conditions[0], row_condition) }}
{% endtest %}


{#- match_on any: each value matches at least one regex; all: each value matches every regex. -#}
{% test expect_column_values_to_match_regex_list(
    model,
    column_name,
    regex_list,
    match_on="any",
    row_condition=none,
    is_raw=false,
    flags=""
) %}
{%- set conditions = dbt_expectations._dq_regex_conditions(column_name, regex_list, true, is_raw, flags) -%}
{{ dbt_utils._dq_failing_rows(model, dbt_utils._dq_match_on(conditions, match_on), row_condition) }}
{% endtest %}


{#- As in dbt-expectations: match_on all: no value matches any regex; any: no value matches all of them. -#}
{% test expect_column_values_to_not_match_regex_list(
    model,
    column_name,
    regex_list,
    match_on="any",
    row_condition=none,
    is_raw=false,
    flags=""
) %}
{%- set conditions = dbt_expectations._dq_regex_conditions(column_name, regex_list, false, is_raw, flags) -%}
{{ dbt_utils._dq_failing_rows(model, dbt_utils._dq_match_on(conditions, match_on), row_condition) }}
{% endtest %}


{% test expect_column_values_to_match_like_pattern(model, column_name, like_pattern, row_condition=none) %}
{%- set conditions = dbt_expectations._dq_like_conditions(column_name, [like_pattern], true) -%}
{{ dbt_utils._dq_failing_rows(model, conditions[0], row_condition) }}
{% endtest %}


{% test expect_column_values_to_not_match_like_pattern(model, column_name, like_pattern, row_condition=none) %}
{%- set conditions = dbt_expectations._dq_like_conditions(column_name, [like_pattern], false) -%}
{{ dbt_utils._dq_failing_rows(model, conditions[0], row_condition) }}
{% endtest %}


{% test expect_column_values_to_match_like_pattern_list(
    model,
    column_name,
    like_pattern_list,
    match_on="any",
    row_condition=none
) %}
{%- set conditions = dbt_expectations._dq_like_conditions(column_name, like_pattern_list, true) -%}
{{ dbt_utils._dq_failing_rows(model, dbt_utils._dq_match_on(conditions, match_on), row_condition) }}
{% endtest %}


{% test expect_column_values_to_not_match_like_pattern_list(
    model,
    column_name,
    like_pattern_list,
    match_on="any",
    row_condition=none
) %}
{%- set conditions = dbt_expectations._dq_like_conditions(column_name, like_pattern_list, false) -%}
{{ dbt_utils._dq_failing_rows(model, dbt_utils._dq_match_on(conditions, match_on), row_condition) }}
{% endtest %}


{% test expect_column_value_lengths_to_be_between(
    model,
    column_name,
    min_value=none,
    max_value=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_utils._dq_failing_rows(model, dbt_utils._dq_between(dbt.length(column_name) | trim, min_value, max_value, strictly), row_condition) }}
{% endtest %}


{% test expect_column_value_lengths_to_equal(model, column_name, value, row_condition=none) %}
{{ dbt_utils._dq_failing_rows(model, (dbt.length(column_name) | trim) ~ " = " ~ value, row_condition) }}
{% endtest %}
