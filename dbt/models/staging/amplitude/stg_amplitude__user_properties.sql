with source as (

    select * from {{ source('amplitude', 'user_properties') }}

),

renamed as (

    select
        -- keys
        cast(user_id as bigint) as user_id,
        cast(amplitude_id as bigint) as amplitude_id,
        -- attributes
        upper(device_id) as device_id,
        lower(platform) as platform,
        country as country_name,
        city,
        properties.app_version,
        properties.marketing_opt_in as is_marketing_opt_in,
        -- amounts
        cast(properties.sessions as bigint) as session_count,
        -- dates
        cast(first_used as date) as first_used_date,
        cast(last_used as date) as last_used_date,
        cast(last_event_time as timestamp) as last_event_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
