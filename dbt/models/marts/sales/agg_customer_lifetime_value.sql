{#-
    Historical customer lifetime value: everything a customer has paid through Stripe (shop orders and
    Trail Club invoices) less what was refunded to them, in USD, with their order history and current
    recurring revenue. One row per customer with at least one Stripe charge or shop order.
-#}

with customers as (

    select * from {{ ref('dim_customers') }}

),

identity_map as (

    select * from {{ ref('slv_customer_identity_map') }}

),

payments as (

    select * from {{ ref('slv_payments') }}

),

refunds as (

    select * from {{ ref('slv_refunds') }}

),

stripe_customers as (

    select
        source_record_id as stripe_customer_id,
        customer_key
    from identity_map
    where source_system = 'stripe.customers'

),

collected as (

    select
        stripe_customers.customer_key,
        count(*) as payment_count,
        sum(case when payments.payment_purpose = 'order' then payments.amount_usd else 0 end) as order_payments_usd,
        sum(case when payments.payment_purpose = 'subscription' then payments.amount_usd else 0 end)
            as subscription_payments_usd,
        min(payments.payment_date) as first_payment_date,
        max(payments.payment_date) as last_payment_date
    from payments
    inner join stripe_customers
        on payments.stripe_customer_id = stripe_customers.stripe_customer_id
    where payments.is_succeeded and not payments.is_deleted
    group by stripe_customers.customer_key

),

refunded as (

    select
        stripe_customers.customer_key,
        sum(refunds.refund_amount_usd) as refunds_usd
    from refunds
    inner join stripe_customers
        on refunds.stripe_customer_id = stripe_customers.stripe_customer_id
    where refunds.refund_status not in ('failed', 'canceled')
    group by stripe_customers.customer_key

),

valued as (

    select
        customers.customer_key,
        customers.sales_region,
        customers.cohort_month,
        customers.first_order_date,
        customers.last_order_date,
        customers.order_count,
        customers.is_subscriber,
        customers.current_mrr_usd,
        coalesce(collected.payment_count, 0) as payment_count,
        coalesce(collected.order_payments_usd, 0) as order_payments_usd,
        coalesce(collected.subscription_payments_usd, 0) as subscription_payments_usd,
        coalesce(refunded.refunds_usd, 0) as refunds_usd,
        collected.first_payment_date,
        collected.last_payment_date,
        least(collected.first_payment_date, customers.first_order_date) as first_purchase_date,
        greatest(collected.last_payment_date, customers.last_order_date) as last_purchase_date
    from customers
    left join collected
        on customers.customer_key = collected.customer_key
    left join refunded
        on customers.customer_key = refunded.customer_key
    where collected.customer_key is not null or customers.order_count > 0

),

final as (

    select
        -- keys
        cast(customer_key as string) as customer_key,
        -- attributes
        cast(sales_region as string) as sales_region,
        cast(cohort_month as date) as cohort_month,
        cast(is_subscriber as boolean) as is_subscriber,
        cast(order_count as bigint) as order_count,
        cast(payment_count as bigint) as payment_count,
        cast(datediff(last_purchase_date, first_purchase_date) as int) as customer_tenure_days,
        -- amounts, in USD
        cast(order_payments_usd as decimal(18, 2)) as order_payments_usd,
        cast(subscription_payments_usd as decimal(18, 2)) as subscription_payments_usd,
        cast(refunds_usd as decimal(18, 2)) as refunds_usd,
        cast(order_payments_usd + subscription_payments_usd - refunds_usd as decimal(18, 2))
            as lifetime_value_usd,
        cast(
            case when order_count > 0 then round(order_payments_usd / order_count, 2) end as decimal(18, 2)
        ) as average_order_value_usd,
        cast(current_mrr_usd as decimal(18, 2)) as current_mrr_usd,
        -- dates
        cast(first_purchase_date as date) as first_purchase_date,
        cast(last_purchase_date as date) as last_purchase_date
    from valued

)

select * from final
