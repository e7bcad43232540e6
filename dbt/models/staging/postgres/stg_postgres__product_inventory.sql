with source as (

    select * from {{ source('postgres', 'product_inventory') }}

),

renamed as (

    select
        -- keys
        cast(product_id as bigint) as product_id,
        upper(warehouse_code) as warehouse_code,
        -- attributes
        upper(sku) as sku,
        -- amounts
        cast(quantity_on_hand as int) as quantity_on_hand,
        cast(quantity_reserved as int) as quantity_reserved,
        cast(reorder_point as int) as reorder_point,
        -- dates
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
