{#-
    Payments reconciled to orders: each shop order (Shopify) against what Stripe collected and refunded
    for its order number, and Stripe order charges whose order the shop does not know.

    Status: matched (collected = order total, and a cancelled order fully refunded); unpaid (nothing
    collected for a live order); amount_mismatch (collected differs from the total); currency_mismatch;
    cancelled_not_refunded; payment_without_order. USD amounts are silver's: orders and charges at the
    reference rate of their day, refunds of theirs.
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

order_payments as (

    select
        order_number,
        min(currency_code) as payment_currency_code,
        count(distinct currency_code) as payment_currency_count,
        count_if(is_succeeded) as succeeded_charge_count,
        count_if(not is_succeeded) as failed_charge_count,
        sum(amount_succeeded) as collected_amount,
        sum(case when is_succeeded then amount_usd else 0 end) as collected_amount_usd,
        min(payment_date) as first_payment_date
    from payments
    where payment_purpose = 'order' and not is_deleted
    group by order_number

),

order_refunds as (

    select
        order_number,
        sum(refund_amount) as refunded_amount,
        sum(refund_amount_usd) as refunded_amount_usd
    from refunds
    where refund_status not in ('failed', 'canceled') and order_number is not null
    group by order_number

),

live_orders as (

    select * from orders
    where not is_deleted

),

joined as (

    select
        coalesce(live_orders.order_number, order_payments.order_number) as order_number,
        live_orders.order_id,
        coalesce(live_orders.order_date, order_payments.first_payment_date) as order_date,
        coalesce(live_orders.currency_code, order_payments.payment_currency_code) as currency_code,
        order_payments.payment_currency_code,
        coalesce(order_payments.payment_currency_count, 0) as payment_currency_count,
        live_orders.order_amount,
        live_orders.order_amount_usd,
        coalesce(live_orders.is_cancelled, false) as is_cancelled,
        live_orders.order_id is not null as has_order,
        coalesce(order_payments.succeeded_charge_count, 0) as succeeded_charge_count,
        coalesce(order_payments.failed_charge_count, 0) as failed_charge_count,
        coalesce(order_payments.collected_amount, 0) as collected_amount,
        coalesce(order_payments.collected_amount_usd, 0) as collected_amount_usd,
        coalesce(order_refunds.refunded_amount, 0) as refunded_amount,
        coalesce(order_refunds.refunded_amount_usd, 0) as refunded_amount_usd
    from live_orders
    full outer join order_payments
        on live_orders.order_number = order_payments.order_number
    left join order_refunds
        on coalesce(live_orders.order_number, order_payments.order_number) = order_refunds.order_number

),

reconciled as (

    select
        joined.*,
        case
            when not joined.has_order then 'payment_without_order'
            when joined.payment_currency_count > 1 then 'currency_mismatch'
            when joined.payment_currency_code != joined.currency_code then 'currency_mismatch'
            when joined.succeeded_charge_count = 0 and not joined.is_cancelled then 'unpaid'
            when joined.collected_amount != joined.order_amount and joined.succeeded_charge_count > 0
                then 'amount_mismatch'
            when joined.is_cancelled and joined.refunded_amount < joined.collected_amount then 'cancelled_not_refunded'
            else 'matched'
        end as reconciliation_status
    from joined

),

final as (

    select
        -- keys
        cast(order_number as bigint) as order_number,
        cast(order_id as bigint) as order_id,
        -- attributes
        cast(reconciliation_status as string) as reconciliation_status,
        cast(reconciliation_status = 'matched' as boolean) as is_reconciled,
        cast(has_order as boolean) as has_order,
        cast(is_cancelled as boolean) as is_cancelled,
        cast(succeeded_charge_count as int) as succeeded_charge_count,
        cast(failed_charge_count as int) as failed_charge_count,
        -- amounts, in the order currency
        cast(currency_code as string) as currency_code,
        cast(order_amount as decimal(18, 2)) as order_amount,
        cast(collected_amount as decimal(18, 2)) as collected_amount,
        cast(refunded_amount as decimal(18, 2)) as refunded_amount,
        cast(collected_amount - coalesce(order_amount, 0) as decimal(18, 2)) as collected_less_ordered_amount,
        -- amounts, in USD
        cast(coalesce(order_amount_usd, 0) as decimal(18, 2)) as order_amount_usd,
        cast(collected_amount_usd as decimal(18, 2)) as collected_amount_usd,
        cast(refunded_amount_usd as decimal(18, 2)) as refunded_amount_usd,
        -- dates
        cast(order_date as date) as order_date
    from reconciled

)

select * from final
