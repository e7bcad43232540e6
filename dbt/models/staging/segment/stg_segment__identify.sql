with source as (

    select * from {{ source('segment', 'identify') }}

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
        traits.email,
        traits.firstName as first_name,
        traits.lastName as last_name,
        traits.phone,
        traits.address.city,
        upper(traits.address.country) as country_code,
        -- dates
        cast(traits.createdAt as timestamp) as user_created_at,
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
