{#-
    The incremental filter every silver model shares: only bronze rows loaded after the newest row
    already in this model. Renders nothing on a first build or a full refresh.
-#}
{% macro loaded_since_last_build(source_alias, column='_loaded_at') -%}
    {%- if is_incremental() -%}
        where {{ source_alias }}.{{ column }} > (
            select max(current_rows.{{ column }}) from {{ this }} as current_rows
        )
    {%- endif -%}
{%- endmacro %}
