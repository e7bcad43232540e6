{#-
    Events from the daily series: base_count events a day, spread over the day, loaded a few minutes
    later, with a country and a coupon code. The arguments inject one fault on `fault_day` only.
-#}
{% macro fixture_events(
    fault_day='2026-02-28', volume_factor=1.0, stop_hour=none, lag_minutes=none, null_every=none, drop_country=none
) %}
with series as (

    select * from {{ ref('daily_series') }}

),

counted as (

    select
        series_date,
        case
            when series_date = date'{{ fault_day }}' then cast(round(base_count * {{ volume_factor }}) as int)
            else base_count
        end as event_count,
        {%- if lag_minutes is not none %}
        case when series_date = date'{{ fault_day }}' then {{ lag_minutes }} else max_lag_minutes end as max_lag_minutes,
        {%- else %}
        max_lag_minutes,
        {%- endif %}
        {%- if null_every is not none %}
        case when series_date = date'{{ fault_day }}' then {{ null_every }} else null_every end as null_every
        {%- else %}
        null_every
        {%- endif %}
    from series

),

numbered as (

    select
        counted.*,
        event_number,
        timestamp_seconds(
            unix_seconds(cast(series_date as timestamp))
            + cast(floor((event_number - 1) * 86400 / event_count) as bigint)
            + (event_number * 37) % 60
        ) as created_at
    from counted
    lateral view explode(sequence(1, event_count)) numbers as event_number

),

final as (

    select
        concat(date_format(series_date, 'yyyyMMdd'), '-', lpad(cast(event_number as string), 4, '0')) as event_id,
        created_at,
        timestamp_seconds(
            unix_seconds(created_at) + 60 * (1 + event_number % max_lag_minutes)
        ) as loaded_at,
        element_at(array('DE', 'FR', 'NL', 'US'), cast(event_number % 4 + 1 as int)) as country_code,
        case when event_number % null_every = 0 then null else concat('C', event_number) end as coupon_code,
        cast(event_number * 1.5 as double) as amount
    from numbered
    where
        true
        {%- if stop_hour is not none %}
        and not (series_date = date'{{ fault_day }}' and hour(created_at) >= {{ stop_hour }})
        {%- endif %}
        {%- if drop_country is not none %}
        and not (
            series_date = date'{{ fault_day }}'
            and element_at(array('DE', 'FR', 'NL', 'US'), cast(event_number % 4 + 1 as int)) = '{{ drop_country }}'
        )
        {%- endif %}

)

select * from final
{% endmacro %}
