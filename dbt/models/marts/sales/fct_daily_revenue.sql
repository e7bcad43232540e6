with orders as (

    select * from {{ ref('slv_orders') }}

),

daily as (

    select
        order_date,
        currency_code,
        count(*) as order_count,
        sum(case when is_cancelled then 1 else 0 end) as cancelled_order_count,
        sum(case when is_cancelled then 0 else order_amount end) as revenue_amount
    from orders
    group by order_date, currency_code

),

final as (

    select
        -- keys
        order_date,
        currency_code,
        -- counts
        order_count,
        cancelled_order_count,
        -- amounts
        cast(revenue_amount as decimal(18, 2)) as revenue_amount
    from daily

)

select * from final
