with source as (

    select * from {{ source('iot_core', 'sensor_data') }}

),

renamed as (

    select
        -- keys
        coalesce(payload.device_id, clientId) as device_id,
        -- attributes
        topic as mqtt_topic,
        upper(try_element_at(split(topic, '/'), 3)) as warehouse_code,
        -- amounts
        cast(payload.temperature_c as double) as temperature_c,
        cast(payload.humidity_pct as double) as humidity_pct,
        cast(payload.battery_pct as double) as battery_pct,
        -- dates
        timestamp_millis(payload.ts) as read_at,
        timestamp_millis(timestamp) as received_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
