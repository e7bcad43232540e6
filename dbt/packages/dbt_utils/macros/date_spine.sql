{#-
    dbt_utils-compatible date_spine for Spark: sequence() over timestamps with a one-`datepart` step,
    so every period is exactly one datepart after the previous one. dbt.date_spine computes each period
    with dbt.dateadd, which on Spark multiplies an unbracketed `row_number() - 1` by the seconds of the
    datepart, and so steps by one second when asked for hours.
-#}
{% macro date_spine(datepart, start_date, end_date) %}
{%- set steps = {
    "second": "interval 1 second",
    "minute": "interval 1 minute",
    "hour": "interval 1 hour",
    "day": "interval 1 day",
    "week": "interval 7 day",
    "month": "interval 1 month",
    "quarter": "interval 3 month",
    "year": "interval 1 year",
} -%}
{%- if datepart not in steps -%}
    {{ exceptions.raise_compiler_error(
        "date_spine: datepart must be one of " ~ (steps.keys() | join(", ")) ~ ", got '" ~ datepart ~ "'"
    ) }}
{%- endif -%}
{%- set start_ts = "cast(" ~ start_date ~ " as " ~ dbt.type_timestamp() ~ ")" -%}
{%- set end_ts = "cast(" ~ end_date ~ " as " ~ dbt.type_timestamp() ~ ")" %}
select date_{{ datepart }}
from (
    -- sequence() needs start <= stop: an end before the start gives just the start, filtered out below
    select explode(sequence({{ start_ts }}, greatest({{ start_ts }}, {{ end_ts }}), {{ steps[datepart] }}))
        as date_{{ datepart }}
) as periods
where date_{{ datepart }} < {{ end_ts }}
{% endmacro %}
