{#-
    Conversion to USD at the reference rates (seed exchange_rates), done once, in silver: marts read the
    `*_usd` columns (and, for totals converted as a whole, the `usd_per_unit` silver used) and never join
    the rates themselves. See _silver__macros.yml.
-#}

{% macro join_exchange_rate(currency_code, as_of_date, rates='exchange_rates') -%}
    {#- The rate of `currency_code` in force on `as_of_date`; valid_to_date is the rate's last day. -#}
    left join {{ rates }}
        on
            {{ currency_code }} = {{ rates }}.currency_code
            and {{ as_of_date }} between {{ rates }}.valid_from_date and {{ rates }}.valid_to_date
{%- endmacro %}


{% macro to_usd(amount, currency_code, rates_alias='exchange_rates') -%}
    {#- Converts with the reference rates joined as `rates_alias` (usd_per_unit), to cents. -#}
    cast(round({{ amount }} * {{ rates_alias }}.usd_per_unit, 2) as decimal(18, 2))
{%- endmacro %}
