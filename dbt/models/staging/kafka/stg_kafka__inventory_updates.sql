with source as (

    select * from {{ source('kafka', 'inventory_updates') }}

),

renamed as (

    select
        -- keys
        value.event_id,
        cast(partition as bigint) as kafka_partition,
        cast(offset as bigint) as kafka_offset,
        upper(value.sku) as sku,
        upper(value.warehouse) as warehouse_code,
        -- attributes
        key as message_key,
        lower(value.event_type) as event_type,
        cast(value.event_version as int) as event_version,
        upper(value.movement_type) as movement_type,
        value.reference as reference_number,
        -- amounts
        cast(value.delta as int) as quantity_delta,
        cast(value.on_hand as int) as on_hand_after,
        -- dates
        cast(value.occurred_at as timestamp) as occurred_at,
        timestamp_millis(timestamp) as published_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
