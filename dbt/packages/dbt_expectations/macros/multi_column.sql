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


{#- The sum over all rows (per `group_by` group) of the row-wise sum of `column_list` equals `sum_total`. -#}
{% test expect_multicolumn_sum_to_equal(model, column_list, sum_total, group_by=none, row_condition=none) %}
{{ dbt_utils._dq_failing_groups(
    model,
    "sum(" ~ (column_list | join(" + ")) ~ ")",
    "expression_value = " ~ sum_total,
    group_by,
    row_condition
) }}
{% endtest %}
