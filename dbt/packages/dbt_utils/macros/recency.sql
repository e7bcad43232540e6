{#-
    dbt_utils-compatible: the newest `field` (per `group_by_columns` group) is at most `interval`
    `datepart`s old, compared as dates when `ignore_time_component`. An empty table fails.
-#}
{% test recency(model, field, datepart, interval, ignore_time_component=false, group_by_columns=[]) %}
{%- set group_by = dbt_utils._dq_as_list(group_by_columns) -%}
{%- set data_type = "date" if ignore_time_component else dbt.type_timestamp() -%}
{%- set threshold = dbt_utils._dq_recency_threshold(datepart, interval, data_type) %}
with recency as (

    select
        {%- for column in group_by %}
        {{ dbt_utils._dq_group_select(column, loop.index) }},
        {%- endfor %}
        cast(max({{ field }}) as {{ data_type }}) as most_recent
    from {{ model }}
    {%- if group_by %}
    group by {{ group_by | join(", ") }}
    {%- endif %}

)

select
    *,
    {{ threshold }} as threshold
from recency
where most_recent < {{ threshold }} or most_recent is null
{% endtest %}
