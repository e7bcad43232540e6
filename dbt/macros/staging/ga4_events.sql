{#- The GA4 BigQuery export's event shape (the web and the app stream share it), renamed and cast. -#}
{% macro ga4_events(source_relation) -%}
with source as (

    select * from {{ source_relation }}

),

renamed as (

    select
        -- keys
        cast(event_bundle_sequence_id as bigint) as event_bundle_sequence_id,
        cast(user_id as bigint) as user_id,
        user_pseudo_id,
        cast(
            try_element_at(filter(event_params, param -> param.key = 'ga_session_id'), 1).value.int_value
            as bigint
        ) as ga_session_id,
        -- attributes
        lower(event_name) as event_name,
        upper(platform) as platform,
        cast(
            try_element_at(filter(event_params, param -> param.key = 'page_location'), 1).value.string_value
            as string
        ) as page_location,
        device.category as device_category,
        device.operating_system,
        geo.country as country_name,
        geo.city,
        traffic_source.source as traffic_source,
        traffic_source.medium as traffic_medium,
        traffic_source.name as traffic_campaign,
        ecommerce.transaction_id,
        items,
        -- amounts
        cast(ecommerce.purchase_revenue_in_usd as decimal(18, 2)) as purchase_revenue_usd,
        cast(event_value_in_usd as decimal(18, 2)) as event_value_usd,
        -- dates
        to_date(event_date, 'yyyyMMdd') as event_date,
        timestamp_micros(event_timestamp) as event_at,
        timestamp_micros(user_first_touch_timestamp) as first_touch_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
{%- endmacro %}
