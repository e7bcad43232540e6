with source as (

    select * from {{ source('iot_core', 'device_status') }}

),

renamed as (

    select
        -- keys
        clientId as device_id,
        -- attributes
        topic as mqtt_topic,
        lower(payload.state.reported.status) as device_status,
        payload.state.reported.firmware as firmware_version,
        cast(payload.version as bigint) as shadow_version,
        -- amounts
        cast(payload.state.reported.rssi as int) as rssi_dbm,
        -- dates
        timestamp_seconds(payload.timestamp) as reported_at,
        timestamp_millis(timestamp) as received_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
