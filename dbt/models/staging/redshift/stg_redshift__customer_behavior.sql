with source as (

    select * from {{ source('redshift', 'customer_behavior') }}

),

renamed as (

    select
        -- keys
        cast(user_id as bigint) as user_id,
        cast(activity_date as date) as activity_date,
        -- attributes
        lower(primary_platform) as primary_platform,
        -- amounts
        cast(sessions as bigint) as session_count,
        cast(events as bigint) as event_count,
        cast(page_views as bigint) as page_view_count,
        cast(add_to_carts as bigint) as add_to_cart_count,
        cast(purchases as bigint) as purchase_count,
        cast(revenue_usd as decimal(12, 2)) as revenue_usd,
        -- dates
        cast(first_seen_at as timestamp) as first_seen_at,
        cast(last_seen_at as timestamp) as last_seen_at,
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
