{#- Bookings per day, channel, region and product category: what was ordered (cancelled orders left out), in USD. -#}

with order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

daily as (

    select
        order_date,
        sales_channel,
        sales_region,
        product_category,
        count(distinct order_id) as order_count,
        sum(quantity) as units_sold,
        sum(line_amount_usd) as gross_sales_usd,
        sum(line_cost_usd) as cost_of_goods_usd,
        sum(line_margin_usd) as gross_margin_usd
    from order_lines
    where not is_cancelled
    group by order_date, sales_channel, sales_region, product_category

),

final as (

    select
        -- keys
        cast(order_date as date) as order_date,
        cast(sales_channel as string) as sales_channel,
        cast(sales_region as string) as sales_region,
        cast(product_category as string) as product_category,
        -- counts
        cast(order_count as bigint) as order_count,
        cast(units_sold as bigint) as units_sold,
        -- amounts
        cast(gross_sales_usd as decimal(18, 2)) as gross_sales_usd,
        cast(cost_of_goods_usd as decimal(18, 2)) as cost_of_goods_usd,
        cast(gross_margin_usd as decimal(18, 2)) as gross_margin_usd
    from daily

)

select * from final
