with source as (

    select * from {{ source('kafka', 'order_events') }}

),

renamed as (

    select
        -- keys
        value.event_id,
        cast(partition as bigint) as kafka_partition,
        cast(offset as bigint) as kafka_offset,
        cast(value.order_number as bigint) as order_number,
        cast(value.user_id as bigint) as user_id,
        value.payment.charge_id as stripe_charge_id,
        -- attributes
        key as message_key,
        lower(value.event_type) as event_type,
        cast(value.event_version as int) as event_version,
        lower(value.channel) as sales_channel,
        lower(value.payment.status) as payment_status,
        upper(value.warehouse) as warehouse_code,
        value.carrier,
        value.tracking_number,
        value.reason as refund_reason,
        transform(
            value.items,
            order_item -> named_struct(
                'sku', order_item.sku,
                'quantity', cast(order_item.quantity as int),
                'unit_price', cast(order_item.unit_price as decimal(12, 2))
            )
        ) as items,
        -- amounts
        upper(value.currency) as currency_code,
        cast(value.total as decimal(12, 2)) as order_total,
        cast(value.amount as decimal(12, 2)) as refund_amount,
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
