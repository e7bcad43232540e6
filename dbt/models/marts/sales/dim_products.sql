{#- The product catalogue with stock on hand across warehouses and what each product has sold. -#}

with products as (

    select * from {{ ref('slv_products') }}

),

inventory_levels as (

    select * from {{ ref('slv_inventory_levels') }}

),

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

stock as (

    select
        product_id,
        sum(quantity_on_hand) as quantity_on_hand,
        sum(quantity_available) as quantity_available,
        count_if(is_below_reorder_point) as warehouses_below_reorder_point
    from inventory_levels
    where not is_deleted
    group by product_id

),

sales as (

    select
        product_id,
        min(order_date) as first_sold_date,
        max(order_date) as last_sold_date,
        sum(quantity) as units_sold,
        sum(line_amount_usd) as gross_sales_usd
    from order_lines
    where not is_cancelled
    group by product_id

),

final as (

    select
        -- keys
        cast(products.product_id as bigint) as product_id,
        cast(products.sku as string) as sku,
        cast(products.netsuite_item_id as string) as netsuite_item_id,
        cast(products.shopify_product_id as bigint) as shopify_product_id,
        cast(products.vendor_id as string) as vendor_id,
        -- attributes
        cast(products.product_name as string) as product_name,
        cast(products.category as string) as product_category,
        cast(products.weight_grams as int) as weight_grams,
        cast(products.is_active as boolean) as is_active,
        cast(products.is_deleted as boolean) as is_deleted,
        -- amounts (the catalogue prices in USD)
        cast(products.list_price as decimal(18, 2)) as list_price_usd,
        cast(products.unit_cost as decimal(18, 2)) as unit_cost_usd,
        cast(products.unit_margin as decimal(18, 2)) as unit_margin_usd,
        {{ safe_ratio('products.unit_margin', 'products.list_price') }} as margin_rate,
        -- stock
        cast(coalesce(stock.quantity_on_hand, 0) as bigint) as quantity_on_hand,
        cast(coalesce(stock.quantity_available, 0) as bigint) as quantity_available,
        cast(coalesce(stock.warehouses_below_reorder_point, 0) as int) as warehouses_below_reorder_point,
        -- sales
        cast(coalesce(sales.units_sold, 0) as bigint) as units_sold,
        cast(coalesce(sales.gross_sales_usd, 0) as decimal(18, 2)) as gross_sales_usd,
        -- dates
        cast(sales.first_sold_date as date) as first_sold_date,
        cast(sales.last_sold_date as date) as last_sold_date,
        cast(products.created_at as timestamp) as created_at,
        cast(products.updated_at as timestamp) as updated_at
    from products
    left join stock
        on products.product_id = stock.product_id
    left join sales
        on products.product_id = sales.product_id

)

select * from final
