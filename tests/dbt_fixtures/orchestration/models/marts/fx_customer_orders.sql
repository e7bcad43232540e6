{#- One row per customer: its orders and their total amount. -#}

with customers as (

    select * from {{ ref('fx_customers') }}

),

orders as (

    select * from {{ ref('fx_orders') }}

),

final as (

    select
        -- keys
        customers.customer_id,
        -- attributes
        customers.name,
        -- amounts
        count(orders.order_id) as order_count,
        coalesce(sum(orders.amount), 0) as order_amount
    from customers
    left join orders
        on customers.customer_id = orders.customer_id
    group by customers.customer_id, customers.name

)

select * from final
