with source as (

    select * from {{ source('shopify', 'products') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as product_id,
        cast(try_element_at(variants, 1).id as bigint) as variant_id,
        -- attributes
        upper(try_element_at(variants, 1).sku) as sku,
        title,
        vendor as vendor_name,
        product_type,
        handle,
        lower(status) as product_status,
        cast(try_element_at(variants, 1).grams as int) as grams,
        -- amounts
        cast(try_element_at(variants, 1).price as decimal(12, 2)) as price,
        -- dates
        cast(created_at as timestamp) as created_at,
        cast(published_at as timestamp) as published_at,
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
