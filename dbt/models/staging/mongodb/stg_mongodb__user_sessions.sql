with source as (

    select * from {{ source('mongodb', 'user_sessions') }}

),

renamed as (

    select
        -- keys
        _id.`$oid` as document_id,
        session_id,
        cast(user_id as bigint) as user_id,
        cast(order_number as bigint) as order_number,
        -- attributes
        device.id as device_id,
        lower(device.platform) as platform,
        utm.source as utm_source,
        utm.medium as utm_medium,
        utm.campaign as utm_campaign,
        upper(geo.country) as country_code,
        geo.city,
        cart_added as is_cart_added,
        transform(
            pages,
            page -> named_struct('path', page.path, 'viewed_at', cast(page.viewed_at.`$date` as timestamp))
        ) as page_views,
        -- amounts
        cast(duration_sec as bigint) as duration_seconds,
        -- dates
        cast(started_at.`$date` as timestamp) as started_at,
        cast(ended_at.`$date` as timestamp) as ended_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
