with source as (

    select * from {{ source('segment', 'events') }}

),

renamed as (

    select
        -- keys
        messageId as message_id,
        cast(userId as bigint) as user_id,
        anonymousId as anonymous_id,
        -- attributes
        lower(type) as message_type,
        context.library.name as library_name,
        context.library.version as library_version,
        event as event_name,
        cast(replace(properties.order_id, '#', '') as bigint) as order_number,
        -- amounts
        cast(properties.total as decimal(12, 2)) as order_total,
        upper(properties.currency) as currency_code,
        -- dates
        cast(timestamp as timestamp) as occurred_at,
        cast(sentAt as timestamp) as sent_at,
        cast(receivedAt as timestamp) as received_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
