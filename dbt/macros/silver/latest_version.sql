{#-
    The latest version of each key: the de-duplication every silver model starts with (see
    _silver__macros.yml).
-#}

{% macro latest_version(relation, unique_key, order_by=['updated_at desc', '_loaded_at desc'], where=none) -%}
    {%- set keys = [unique_key] if unique_key is string else unique_key -%}
    {%- set ordering = [order_by] if order_by is string else order_by -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ keys | join(', ') }}
                order by {{ ordering | join(', ') }}
            ) as version_rank
        from {{ relation }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    ) as versions
    where version_rank = 1
{%- endmacro %}
