{#-
    Cash revenue per day: what Stripe collected (succeeded charges for shop orders and Trail Club
    invoices) less what it refunded, in each currency and in USD. The USD figures convert each day's
    total per currency at the reference rate and round it to cents, the company's reporting rule, so a
    day's USD revenue is the sum of its currencies' rows. The rate is the one silver converted that
    day's payments and refunds at (their usd_per_unit): the mart never joins the rates itself.
-#}

with payments as (

    select * from {{ ref('slv_payments') }}

),

refunds as (

    select * from {{ ref('slv_refunds') }}

),

collected as (

    select
        payment_date as revenue_date,
        currency_code,
        count_if(payment_purpose = 'order') as order_charge_count,
        count_if(payment_purpose = 'subscription') as subscription_charge_count,
        sum(case when payment_purpose = 'order' then amount else 0 end) as order_gross_amount,
        sum(case when payment_purpose = 'subscription' then amount else 0 end) as subscription_gross_amount,
        max(usd_per_unit) as usd_per_unit
    from payments
    where is_succeeded and not is_deleted
    group by payment_date, currency_code

),

refunded as (

    select
        refund_date as revenue_date,
        currency_code,
        count(*) as refund_count,
        sum(refund_amount) as refund_amount,
        max(usd_per_unit) as usd_per_unit
    from refunds
    where refund_status not in ('failed', 'canceled')
    group by refund_date, currency_code

),

daily as (

    select
        coalesce(collected.revenue_date, refunded.revenue_date) as revenue_date,
        coalesce(collected.currency_code, refunded.currency_code) as currency_code,
        coalesce(collected.order_charge_count, 0) as order_charge_count,
        coalesce(collected.subscription_charge_count, 0) as subscription_charge_count,
        coalesce(refunded.refund_count, 0) as refund_count,
        coalesce(collected.order_gross_amount, 0) as order_gross_amount,
        coalesce(collected.subscription_gross_amount, 0) as subscription_gross_amount,
        coalesce(refunded.refund_amount, 0) as refund_amount,
        -- one rate per currency and day, the same on both sides
        coalesce(collected.usd_per_unit, refunded.usd_per_unit) as usd_per_unit
    from collected
    full outer join refunded
        on
            collected.revenue_date = refunded.revenue_date
            and collected.currency_code = refunded.currency_code

),

converted as (

    select
        daily.*,
        daily.order_gross_amount + daily.subscription_gross_amount as gross_amount,
        round((daily.order_gross_amount + daily.subscription_gross_amount) * daily.usd_per_unit, 2)
            as gross_amount_usd,
        round(daily.refund_amount * daily.usd_per_unit, 2) as refund_amount_usd
    from daily

),

final as (

    select
        -- keys
        cast(revenue_date as date) as revenue_date,
        cast(currency_code as string) as currency_code,
        -- counts
        cast(order_charge_count as bigint) as order_charge_count,
        cast(subscription_charge_count as bigint) as subscription_charge_count,
        cast(refund_count as bigint) as refund_count,
        -- amounts, in currency_code
        cast(order_gross_amount as decimal(18, 2)) as order_gross_amount,
        cast(subscription_gross_amount as decimal(18, 2)) as subscription_gross_amount,
        cast(gross_amount as decimal(18, 2)) as gross_amount,
        cast(refund_amount as decimal(18, 2)) as refund_amount,
        cast(gross_amount - refund_amount as decimal(18, 2)) as net_amount,
        -- amounts, in USD
        cast(usd_per_unit as decimal(18, 6)) as usd_per_unit,
        cast(gross_amount_usd as decimal(18, 2)) as gross_amount_usd,
        cast(refund_amount_usd as decimal(18, 2)) as refund_amount_usd,
        cast(gross_amount_usd - refund_amount_usd as decimal(18, 2)) as net_amount_usd
    from converted

)

select * from final
