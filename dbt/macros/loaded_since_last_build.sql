{#-
    The incremental filter every silver model shares: only bronze rows loaded after the newest row
    already in this model. Renders nothing on a first build or a full refresh. `source_alias` qualifies
    the column when the query joins several relations.
-#}
{% macro loaded_since_last_build(source_alias=none, column='_loaded_at') -%}
    {%- if is_incremental() -%}
        where {{ source_alias ~ '.' if source_alias }}{{ column }} > (
            select max(current_rows.{{ column }}) from {{ this }} as current_rows
        )
    {%- endif -%}
{%- endmacro %}
