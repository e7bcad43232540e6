{#-
    Layers are fixed databases (staging, silver, sales, finance, ...), not prefixed per developer:
    the metastore is per lakehouse root, so isolation comes from the root, not the schema name.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
