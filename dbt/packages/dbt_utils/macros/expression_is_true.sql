{#-
    dbt_utils-compatible: fails with the rows for which `expression` (prefixed with the column when the
    test is on a column) is false. Restrict the rows with the `where` config.
-#}
{% test expression_is_true(model, expression, column_name=none) %}
{{ dbt_utils._dq_failing_rows(model, (column_name ~ " " ~ expression) if column_name else expression) }}
{% endtest %}
