with source as (

    select * from {{ source('snowflake', 'product_catalog') }}

),

renamed as (

    select
        -- keys
        cast(PRODUCT_ID as bigint) as product_id,
        NETSUITE_INTERNAL_ID as netsuite_item_id,
        cast(get_json_object(ATTRIBUTES, '$.shopify_product_id') as bigint) as shopify_product_id,
        -- attributes
        upper(SKU) as sku,
        PRODUCT_NAME as product_name,
        CATEGORY as category,
        VENDOR_ID as vendor_id,
        cast(get_json_object(ATTRIBUTES, '$.weight_grams') as int) as weight_grams,
        IS_ACTIVE as is_active,
        -- amounts
        cast(LIST_PRICE as decimal(10, 2)) as list_price,
        cast(UNIT_COST as decimal(10, 2)) as unit_cost,
        upper(CURRENCY) as currency_code,
        -- dates
        cast(CREATED_AT as timestamp) as created_at,
        cast(UPDATED_AT as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
