with source as (

    select * from {{ source('kafka', 'user_events') }}

),

renamed as (

    select
        -- keys
        value.event_id,
        cast(partition as bigint) as kafka_partition,
        cast(offset as bigint) as kafka_offset,
        cast(value.user_id as bigint) as user_id,
        value.session_id,
        -- attributes
        key as message_key,
        lower(value.event_type) as event_type,
        cast(value.event_version as int) as event_version,
        value.data.email,
        value.data.phone,
        value.data.city,
        upper(value.data.country) as country_code,
        value.data.marketing_opt_in as is_marketing_opt_in,
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
