{#- dbt-expectations-compatible tests on row counts and aggregates of a whole table (or of its groups). -#}

{% test expect_table_row_count_to_be_between(
    model,
    min_value=none,
    max_value=none,
    group_by=none,
    row_condition=none,
    strictly=false
) %}
{{ dbt_utils._dq_failing_groups(
    model,
    "count(*)",
    dbt_utils._dq_between("expression_value", min_value, max_value, strictly),
    group_by,
    row_condition
) }}
{% endtest %}


{% test expect_table_row_count_to_equal(model, value, group_by=none, row_condition=none) %}
{{ dbt_utils._dq_failing_groups(model, "count(*)", "expression_value = " ~ value, group_by, row_condition) }}
{% endtest %}


{#- The model's row count equals `factor` times the compare model's (per group when grouped). -#}
{% test expect_table_row_count_to_equal_other_table(
    model,
    compare_model,
    group_by=none,
    compare_group_by=none,
    factor=1,
    row_condition=none,
    compare_row_condition=none
) %}
{{ dbt_utils._dq_compare_aggregates(
    model,
    "count(*)",
    compare_model=compare_model,
    compare_expression="count(*) * " ~ factor,
    group_by=group_by,
    compare_group_by=compare_group_by,
    row_condition=row_condition,
    compare_row_condition=compare_row_condition
) }}
{% endtest %}


{% test expect_table_row_count_to_equal_other_table_times_factor(
    model,
    compare_model,
    factor,
    group_by=none,
    compare_group_by=none,
    row_condition=none,
    compare_row_condition=none
) %}
{{ dbt_utils._dq_compare_aggregates(
    model,
    "count(*)",
    compare_model=compare_model,
    compare_expression="count(*) * " ~ factor,
    group_by=group_by,
    compare_group_by=compare_group_by,
    row_condition=row_condition,
    compare_row_condition=compare_row_condition
) }}
{% endtest %}


{% test expect_table_aggregation_to_equal_other_table(
    model,
    expression,
    compare_model,
    compare_expression=none,
    group_by=none,
    compare_group_by=none,
    row_condition=none,
    compare_row_condition=none,
    tolerance=0.0,
    tolerance_percent=none
) %}
{{ dbt_utils._dq_compare_aggregates(
    model,
    expression,
    compare_model=compare_model,
    compare_expression=compare_expression,
    group_by=group_by,
    compare_group_by=compare_group_by,
    row_condition=row_condition,
    compare_row_condition=compare_row_condition,
    tolerance=tolerance,
    tolerance_percent=tolerance_percent
) }}
{% endtest %}
