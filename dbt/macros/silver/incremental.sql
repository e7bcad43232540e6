{#-
    The late-version guard shared by the incremental silver models (see _silver__macros.yml).
-#}

{% macro exclude_older_than_current(relation_alias, unique_key, updated_at='updated_at') -%}
    {#- A late, older version never overwrites a newer one already in this model. -#}
    {%- if is_incremental() -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key -%}
        where not exists (
            select 1
            from {{ this }} as current_rows
            where
                {% for key in keys -%}
                current_rows.{{ key }} = {{ relation_alias }}.{{ key }}
                and {% endfor -%}
                current_rows.{{ updated_at }} > {{ relation_alias }}.{{ updated_at }}
        )
    {%- endif -%}
{%- endmacro %}

