{#- dbt-expectations-compatible tests across several columns of a row. -#}

{#- Fails with one row per duplicated combination of `column_list` (its count in `n_records`). -#}
{% test expect_compound_columns_to_be_unique(
    model,
    column_list,
    quote_columns=false,
    ignore_row_if="all_values_are_missing",
    row_condition=none
) %}
{{ dbt_utils._dq_duplicates(model, dbt_utils._dq_quote_columns(column_list, quote_columns), row_condition, ignore_row_if) }}
{% endtest %}


{% test expect_column_pair_values_A_to_be_greater_than_B(
    model,
    column_A,
    column_B,
    or_equal=false,
    row_condition=none
) %}
{{ dbt_utils._dq_failing_rows(model, column_A ~ (" >= " if or_equal else " > ") ~ column_B, row_condition) }}
{% endtest %}


{#-
    As in dbt-expectations: the sum of each column of `column_list` over the rows (per `group_by` group),
    added up, equals `sum_total`, a number or a column (then summed over the same rows too).
-#}
{% test expect_multicolumn_sum_to_equal(model, column_list, sum_total, group_by=none, row_condition=none) %}
{%- set total = sum_total if sum_total is number else "sum(" ~ sum_total ~ ")" -%}
{%- set sums = [] -%}
{%- for column in column_list -%}
    {%- do sums.append("sum(" ~ column ~ ")") -%}
{%- endfor -%}
{{ dbt_utils._dq_failing_groups(
    model,
    "(" ~ (sums | join(" + ")) ~ ") - " ~ total,
    "expression_value = 0",
    group_by,
    row_condition,
    value_column="expression_value"
) }}
{% endtest %}


{% test expect_column_pair_values_to_be_equal(model, column_A, column_B, row_condition=none) %}
{{ dbt_utils._dq_failing_rows(model, column_A ~ " = " ~ column_B, row_condition) }}
{% endtest %}


{#-
    Every row's (column_A, column_B) is one of `value_pairs_set`, a list of two-element lists rendered
    as SQL (quote strings in the YAML: ["'a'", "'b'"]), as in dbt-expectations. A null never matches.
-#}
{% test expect_column_pair_values_to_be_in_set(model, column_A, column_B, value_pairs_set, row_condition=none) %}
{%- set pairs = [] -%}
{%- for pair in value_pairs_set -%}
    {%- if pair | length != 2 -%}
        {{ exceptions.raise_compiler_error(
            "value_pairs_set of expect_column_pair_values_to_be_in_set takes pairs of two values, got " ~ pair
        ) }}
    {%- endif -%}
    {%- do pairs.append(column_A ~ " = " ~ pair[0] ~ " and " ~ column_B ~ " = " ~ pair[1]) -%}
{%- endfor -%}
{{ dbt_utils._dq_failing_rows(model, "coalesce(" ~ dbt_utils._dq_match_on(pairs, "any") ~ ", false)", row_condition) }}
{% endtest %}


{#-
    Within each row, the columns of `column_list` hold different values (compared as strings). A null
    counts as a repeated value, as in dbt-expectations; `ignore_row_if` skips rows with missing values.
    Fails with the offending rows.
-#}
{% test expect_select_column_values_to_be_unique_within_record(
    model,
    column_list,
    quote_columns=false,
    ignore_row_if="all_values_are_missing",
    row_condition=none
) %}
{%- set columns = dbt_utils._dq_quote_columns(column_list, quote_columns) -%}
{%- if ignore_row_if not in ["all_values_are_missing", "any_value_is_missing"] -%}
    {{ exceptions.raise_compiler_error(
        "ignore_row_if must be 'all_values_are_missing' or 'any_value_is_missing', got '" ~ ignore_row_if ~ "'"
    ) }}
{%- endif -%}
{%- set operator = " and " if ignore_row_if == "all_values_are_missing" else " or " -%}
{%- set missing = "not (" ~ (columns | join(" is null" ~ operator)) ~ " is null)" -%}
{%- set condition = "(" ~ row_condition ~ ") and " ~ missing if row_condition else missing -%}
{%- set as_strings = [] -%}
{%- for column in columns -%}
    {%- do as_strings.append("cast(" ~ column ~ " as " ~ dbt.type_string() ~ ")") -%}
{%- endfor -%}
{{ dbt_utils._dq_failing_rows(
    model,
    "size(array_distinct(filter(array(" ~ (as_strings | join(", ")) ~ "), v -> v is not null))) = "
        ~ (columns | length),
    condition
) }}
{% endtest %}
