{#-
    dbt-expectations-compatible generalized tests: a boolean expression per row or per group, an
    expression within bounds, and an aggregate equal to another model's.
-#}

{#-
    `expression test_condition` holds for every row (within `row_condition`), or, with
    `group_by_columns`, for every group (the expression is then an aggregate). Fails with the rows
    where it is false, or with one row per failing group (its value in `expression`).
-#}
{% test expression_is_true(model, expression, test_condition="= true", group_by_columns=none, row_condition=none) %}
{%- if group_by_columns -%}
{{ dbt_utils._dq_failing_groups(
    model,
    "(" ~ (expression | trim) ~ ")",
    "expression " ~ test_condition,
    group_by_columns,
    row_condition,
    value_column="expression"
) }}
{%- else -%}
{{ dbt_utils._dq_failing_rows(model, "(" ~ (expression | trim) ~ ") " ~ test_condition, row_condition) }}
{%- endif -%}
{% endtest %}


{#- `expression` lies in [min_value, max_value] for every row, or every group with `group_by_columns`. -#}
{% test expression_between(
    model,
    expression,
    min_value=none,
    max_value=none,
    group_by_columns=none,
    row_condition=none,
    strictly=false
) %}
{%- if group_by_columns -%}
{{ dbt_utils._dq_failing_groups(
    model,
    "(" ~ (expression | trim) ~ ")",
    dbt_utils._dq_between("expression", min_value, max_value, strictly),
    group_by_columns,
    row_condition,
    value_column="expression"
) }}
{%- else -%}
{{ dbt_utils._dq_failing_rows(
    model, dbt_utils._dq_between("(" ~ (expression | trim) ~ ")", min_value, max_value, strictly), row_condition
) }}
{%- endif -%}
{% endtest %}


{#- The aggregate `expression` on the model equals `compare_expression` on `compare_model` (per group). -#}
{% test equal_expression(
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
