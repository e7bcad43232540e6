{#-
    dbt_utils-compatible: the model and `compare_model` have as many rows (per `group_by_columns` group,
    the same columns on both sides). Fails with one row per differing group, not with the sum of the
    differences as dbt_utils's fail_calc does.
-#}
{% test equal_rowcount(model, compare_model, group_by_columns=[]) %}
{{ dbt_utils._dq_compare_aggregates(model, "count(*)", compare_model=compare_model, group_by=group_by_columns) }}
{% endtest %}
