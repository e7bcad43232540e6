with source as (

    select * from {{ source('amplitude', 'events') }}

),

renamed as (

    select
        -- keys
        uuid as event_uuid,
        `$insert_id` as insert_id,
        cast(user_id as bigint) as user_id,
        cast(amplitude_id as bigint) as amplitude_id,
        cast(session_id as bigint) as session_id,
        cast(event_properties.order_number as bigint) as order_number,
        -- attributes
        lower(event_type) as event_type,
        upper(device_id) as device_id,
        lower(platform) as platform,
        lower(os_name) as os_name,
        device_family,
        version_name as app_version,
        country as country_name,
        city,
        upper(event_properties.sku) as sku,
        event_properties.category,
        user_properties.marketing_opt_in as is_marketing_opt_in,
        -- amounts
        cast(event_properties.revenue as decimal(12, 2)) as revenue_usd,
        -- dates
        cast(event_time as timestamp) as event_at,
        cast(client_event_time as timestamp) as client_event_at,
        cast(server_received_time as timestamp) as server_received_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
