with source as (

    select * from {{ source('mongodb', 'product_reviews') }}

),

renamed as (

    select
        -- keys
        _id.`$oid` as review_id,
        upper(product_sku) as sku,
        cast(user_id as bigint) as user_id,
        cast(order_number as bigint) as order_number,
        -- attributes
        cast(rating as int) as rating,
        title as review_title,
        body as review_body,
        lower(status) as review_status,
        verified_purchase as is_verified_purchase,
        -- amounts
        cast(helpful_votes as bigint) as helpful_votes,
        -- dates
        cast(created_at.`$date` as timestamp) as created_at,
        cast(updated_at.`$date` as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
