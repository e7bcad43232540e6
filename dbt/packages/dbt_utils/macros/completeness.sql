{#- dbt_utils-compatible tests on missing values. -#}

{#- The share of non-null values (per `group_by_columns` group) lies in [at_least, at_most]. -#}
{% test not_null_proportion(model, column_name, at_least, at_most=1.0, group_by_columns=[]) %}
{{ dbt_utils._dq_failing_groups(
    model,
    dbt_utils._dq_ratio("count(" ~ column_name ~ ")", "count(*)"),
    dbt_utils._dq_between("not_null_proportion", at_least, at_most),
    group_by_columns,
    value_column="not_null_proportion"
) }}
{% endtest %}


{#- Fails with the rows whose value is '' (after trimming, by default); nulls pass. -#}
{% test not_empty_string(model, column_name, trim_whitespace=true) %}
{{ dbt_utils._dq_failing_rows(model, ("trim(" ~ column_name ~ ")" if trim_whitespace else column_name) ~ " <> ''") }}
{% endtest %}


{#- The column has at least one non-null value (in every `group_by_columns` group). -#}
{% test at_least_one(model, column_name, group_by_columns=[]) %}
{{ dbt_utils._dq_failing_groups(
    model,
    "count(" ~ column_name ~ ")",
    "non_null_count > 0",
    group_by_columns,
    value_column="non_null_count"
) }}
{% endtest %}
