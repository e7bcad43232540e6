{#-
    Helpers shared by the mart models (see _marts__macros.yml).
-#}

{% macro optimize_zorder(columns) -%}
    {#- A post-hook: compact the freshly built table's files and Z-order them by the columns BI filters on. -#}
    optimize {{ this }} zorder by ({{ columns | join(', ') }})
{%- endmacro %}


{% macro month_start(date_expression) -%}
    {#- The first day of the month of a date or timestamp, as a date. -#}
    cast(date_trunc('month', {{ date_expression }}) as date)
{%- endmacro %}


{% macro safe_ratio(numerator, denominator, scale=4) -%}
    {#- numerator / denominator rounded to `scale` decimals; null (not an ANSI error) when the denominator is 0. -#}
    cast(round(try_divide(cast({{ numerator }} as decimal(38, 10)), {{ denominator }}), {{ scale }}) as decimal(18, {{ scale }}))
{%- endmacro %}
