with source as (

    select * from {{ source('google_cloud_storage', 'analytics_exports') }}

),

renamed as (

    select
        -- keys
        to_date(cast(event_date as string), 'yyyyMMdd') as event_date,
        lower(event_name) as event_name,
        lower(platform) as platform,
        -- amounts
        cast(event_count as bigint) as event_count,
        cast(total_users as bigint) as user_count,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
