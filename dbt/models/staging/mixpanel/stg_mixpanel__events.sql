with source as (

    select * from {{ source('mixpanel', 'events') }}

),

renamed as (

    select
        -- keys
        properties.`$insert_id` as insert_id,
        properties.distinct_id,
        cast(properties.`$user_id` as bigint) as user_id,
        cast(properties.order_number as bigint) as order_number,
        -- attributes
        event as event_name,
        properties.`$device_id` as device_id,
        properties.`$browser` as browser,
        properties.`$os` as operating_system,
        properties.`$city` as city,
        upper(properties.mp_country_code) as country_code,
        properties.mp_lib as library,
        properties.utm_source,
        properties.utm_medium,
        upper(properties.sku) as sku,
        properties.category,
        -- amounts
        cast(properties.price as decimal(12, 2)) as price_usd,
        cast(properties.revenue as decimal(12, 2)) as revenue_usd,
        -- dates
        timestamp_seconds(cast(properties.time as bigint)) as event_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
