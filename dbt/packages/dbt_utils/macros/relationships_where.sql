{#-
    dbt_utils-compatible: every non-null value of the column (in rows matching `from_condition`) exists in
    `field` of `to` (in rows matching `to_condition`). Fails with the orphan rows.
-#}
{% test relationships_where(model, column_name, to, field, from_condition="1=1", to_condition="1=1") %}
with child_rows as (

    select *
    from {{ model }}
    {{ dbt_utils._dq_where([column_name ~ " is not null", from_condition]) }}

),

parent_keys as (

    select {{ field }} as parent_key
    from {{ to }}
    {{ dbt_utils._dq_where([field ~ " is not null", to_condition]) }}

)

select child_rows.*
from child_rows
left anti join parent_keys
    on child_rows.{{ column_name }} = parent_keys.parent_key
{% endtest %}
