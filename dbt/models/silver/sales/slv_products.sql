{{ config(unique_key='product_id') }}

{#-
    Products from the catalogue (Snowflake, synced from NetSuite), with the ids each selling system
    knows them by. One row per product, latest catalogue version.
-#}

with catalogue as (

    select * from {{ ref('stg_snowflake__product_catalog') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('catalogue', 'product_id') }}

),

final as (

    select
        -- keys
        product_id,
        sku,
        netsuite_item_id,
        shopify_product_id,
        vendor_id,
        -- attributes
        product_name,
        category,
        weight_grams,
        is_active,
        coalesce(_op = 'delete', false) as is_deleted,
        -- amounts
        currency_code,
        list_price,
        unit_cost,
        cast(list_price - unit_cost as decimal(10, 2)) as unit_margin,
        -- dates
        created_at,
        updated_at,
        -- audit
        _loaded_at
    from latest
    {{ exclude_older_than_current('latest', 'product_id') }}

)

select * from final
