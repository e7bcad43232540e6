{{
    config(
        partition_by=['order_month'],
        post_hook=["{{ optimize_zorder(['order_date', 'product_id']) }}"],
    )
}}

{#-
    Order lines with their product (catalogue id, category, unit cost) and the order's customer, channel
    and region, so sales and margin can be cut by product. Cost is the catalogue's current unit cost.
-#}

with order_lines as (

    select * from {{ ref('slv_order_lines') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

products as (

    select * from {{ ref('slv_products') }}

),

joined as (

    select
        order_lines.order_line_id,
        order_lines.order_id,
        orders.order_number,
        products.product_id,
        orders.customer_key,
        order_lines.sku,
        order_lines.line_number,
        order_lines.product_title,
        products.category as product_category,
        orders.sales_channel,
        orders.sales_region,
        orders.shipping_country_code,
        orders.is_cancelled,
        order_lines.quantity,
        order_lines.currency_code,
        order_lines.unit_price,
        order_lines.line_amount,
        order_lines.line_amount_usd,
        products.unit_cost as unit_cost_usd,
        orders.order_date,
        orders.order_month
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    left join products
        on order_lines.sku = products.sku

),

final as (

    select
        -- keys
        cast(order_line_id as bigint) as order_line_id,
        cast(order_id as bigint) as order_id,
        cast(order_number as bigint) as order_number,
        cast(product_id as bigint) as product_id,
        cast(customer_key as string) as customer_key,
        -- attributes
        cast(sku as string) as sku,
        cast(line_number as int) as line_number,
        cast(product_title as string) as product_title,
        cast(coalesce(product_category, 'Unknown') as string) as product_category,
        cast(sales_channel as string) as sales_channel,
        cast(sales_region as string) as sales_region,
        cast(shipping_country_code as string) as shipping_country_code,
        cast(is_cancelled as boolean) as is_cancelled,
        -- amounts
        cast(quantity as int) as quantity,
        cast(currency_code as string) as currency_code,
        cast(unit_price as decimal(18, 2)) as unit_price,
        cast(line_amount as decimal(18, 2)) as line_amount,
        cast(line_amount_usd as decimal(18, 2)) as line_amount_usd,
        cast(unit_cost_usd as decimal(18, 2)) as unit_cost_usd,
        cast(quantity * unit_cost_usd as decimal(18, 2)) as line_cost_usd,
        cast(line_amount_usd - quantity * unit_cost_usd as decimal(18, 2)) as line_margin_usd,
        -- dates
        cast(order_date as date) as order_date,
        cast(order_month as date) as order_month
    from joined

)

select * from final
