{{
    config(
        partition_by=['order_month'],
        post_hook=["{{ optimize_zorder(['order_date', 'customer_key']) }}"],
    )
}}

{#-
    Shop orders with what was paid and refunded for each (Stripe), their lines summarised, the sales
    region of the shipping country, and the customer's order sequence. Amounts in the order currency
    and in USD (converted in silver at the reference rates: orders on the order date, refunds on the
    refund date).
-#}

with orders as (

    select * from {{ ref('slv_orders') }}

),

payments as (

    select * from {{ ref('slv_payments') }}

),

refunds as (

    select * from {{ ref('slv_refunds') }}

),

order_lines as (

    select * from {{ ref('slv_order_lines') }}

),

countries as (

    select * from {{ ref('countries') }}

),

order_payments as (

    select
        order_number,
        count(*) as payment_attempt_count,
        sum(amount_succeeded) as paid_amount
    from payments
    where payment_purpose = 'order' and not is_deleted
    group by order_number

),

order_refunds as (

    select
        order_number,
        count(*) as refund_count,
        sum(refund_amount) as refunded_amount,
        sum(refund_amount_usd) as refunded_amount_usd
    from refunds
    where refund_status not in ('failed', 'canceled')
    group by order_number

),

line_totals as (

    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_quantity
    from order_lines
    group by order_id

),

live_orders as (

    select
        *,
        row_number() over (
            partition by customer_key
            order by ordered_at asc, order_id asc
        ) as customer_order_number
    from orders
    where not is_deleted

),

joined as (

    select
        live_orders.*,
        countries.sales_region,
        coalesce(line_totals.line_count, 0) as line_count,
        coalesce(line_totals.item_quantity, 0) as item_quantity,
        coalesce(order_payments.payment_attempt_count, 0) as payment_attempt_count,
        coalesce(order_payments.paid_amount, 0) as paid_amount,
        coalesce(order_refunds.refund_count, 0) as refund_count,
        coalesce(order_refunds.refunded_amount, 0) as refunded_amount,
        coalesce(order_refunds.refunded_amount_usd, 0) as refunded_amount_usd
    from live_orders
    left join countries
        on live_orders.shipping_country_code = countries.country_code
    left join line_totals
        on live_orders.order_id = line_totals.order_id
    left join order_payments
        on live_orders.order_number = order_payments.order_number
    left join order_refunds
        on live_orders.order_number = order_refunds.order_number

),

final as (

    select
        -- keys
        cast(order_id as bigint) as order_id,
        cast(order_number as bigint) as order_number,
        cast(customer_key as string) as customer_key,
        -- attributes
        cast(order_status as string) as order_status,
        cast(sales_channel as string) as sales_channel,
        cast(utm_source as string) as utm_source,
        cast(shipping_country_code as string) as shipping_country_code,
        cast(coalesce(sales_region, 'Unknown') as string) as sales_region,
        cast(customer_order_number as int) as customer_order_number,
        customer_order_number = 1 as is_first_order,
        cast(is_cancelled as boolean) as is_cancelled,
        cast(is_guest_checkout as boolean) as is_guest_checkout,
        cast(line_count as int) as line_count,
        cast(item_quantity as int) as item_quantity,
        cast(payment_attempt_count as int) as payment_attempt_count,
        cast(refund_count as int) as refund_count,
        -- amounts, in the order currency
        cast(currency_code as string) as currency_code,
        cast(line_items_amount as decimal(18, 2)) as line_items_amount,
        cast(discount_amount as decimal(18, 2)) as discount_amount,
        cast(shipping_amount as decimal(18, 2)) as shipping_amount,
        cast(tax_amount as decimal(18, 2)) as tax_amount,
        cast(order_amount as decimal(18, 2)) as order_amount,
        cast(paid_amount as decimal(18, 2)) as paid_amount,
        cast(refunded_amount as decimal(18, 2)) as refunded_amount,
        cast(order_amount - refunded_amount as decimal(18, 2)) as net_amount,
        -- amounts, in USD
        cast(order_amount_usd as decimal(18, 2)) as order_amount_usd,
        cast(refunded_amount_usd as decimal(18, 2)) as refunded_amount_usd,
        cast(order_amount_usd - refunded_amount_usd as decimal(18, 2)) as net_amount_usd,
        -- dates
        cast(order_date as date) as order_date,
        {{ month_start('order_date') }} as order_month,
        cast(ordered_at as timestamp) as ordered_at,
        cast(cancelled_at as timestamp) as cancelled_at
    from joined

)

select * from final
