with source as (

    select * from {{ source('netsuite', 'inventory_items') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as item_id,
        upper(itemId) as sku,
        -- attributes
        displayName as display_name,
        itemType as item_type,
        class.refName as category,
        vendorName as vendor_name,
        cast(weight as decimal(10, 3)) as weight_kg,
        isInactive as is_inactive,
        -- amounts
        cast(basePrice as decimal(12, 2)) as base_price_usd,
        cast(cost as decimal(12, 2)) as cost_usd,
        -- dates
        cast(createdDate as timestamp) as created_at,
        cast(lastModifiedDate as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
