{#- dbt_utils-compatible: fails with one row per combination that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns, quote_columns=false) %}
{{ dbt_utils._dq_duplicates(model, dbt_utils._dq_quote_columns(combination_of_columns, quote_columns), count_column="occurrences") }}
{% endtest %}
