{#-
    Trail Club invoices (Stripe bills each subscription period with a charge attempt; every attempt is
    an invoice) with their collection status and accounts-receivable aging.

    Status: paid (the charge succeeded); superseded (it failed, and a later attempt for the same
    customer replaced it, so the receivable moved to that one); open (it failed, it is the customer's
    latest attempt and their subscription is still live, past due: the receivable); uncollectible (it
    failed and the subscription has ended: dunning gave up, written off). Aging counts days from the
    invoice date (due on issue, collected automatically) to the as-of date, the day of the latest Stripe
    activity, so rebuilding the same data ages the same way.
-#}

with payments as (

    select * from {{ ref('slv_payments') }}

),

subscriptions as (

    select * from {{ ref('slv_subscriptions') }}

),

as_of as (

    select max(payment_date) as as_of_date
    from payments
    where not is_deleted

),

invoice_attempts as (

    select
        *,
        count(*) over (
            partition by stripe_customer_id
            order by created_at asc, charge_id asc
            rows between 1 following and unbounded following
        ) as later_attempt_count
    from payments
    where payment_purpose = 'subscription' and invoice_id is not null and not is_deleted

),

live_customers as (

    select distinct stripe_customer_id
    from subscriptions
    where is_active and not is_deleted

),

statused as (

    select
        invoice_attempts.*,
        case
            when invoice_attempts.is_succeeded then 'paid'
            when invoice_attempts.later_attempt_count > 0 then 'superseded'
            when live_customers.stripe_customer_id is not null then 'open'
            else 'uncollectible'
        end as invoice_status,
        as_of.as_of_date
    from invoice_attempts
    cross join as_of
    left join live_customers
        on invoice_attempts.stripe_customer_id = live_customers.stripe_customer_id

),

aged as (

    select
        statused.*,
        case when statused.invoice_status = 'open' then statused.amount else 0 end as outstanding_amount,
        case when statused.invoice_status = 'open' then statused.amount_usd else 0 end as outstanding_amount_usd,
        case
            when statused.invoice_status = 'open' then datediff(statused.as_of_date, statused.payment_date)
        end as days_outstanding
    from statused

),

final as (

    select
        -- keys
        cast(invoice_id as string) as invoice_id,
        cast(charge_id as string) as charge_id,
        cast(stripe_customer_id as string) as stripe_customer_id,
        -- attributes
        cast(invoice_status as string) as invoice_status,
        cast(failure_code as string) as failure_code,
        cast(
            case
                when days_outstanding is null then null
                when days_outstanding <= 0 then 'current'
                when days_outstanding <= 30 then '1-30'
                when days_outstanding <= 60 then '31-60'
                when days_outstanding <= 90 then '61-90'
                else '90+'
            end as string
        ) as aging_bucket,
        cast(days_outstanding as int) as days_outstanding,
        -- amounts
        cast(currency_code as string) as currency_code,
        cast(amount as decimal(18, 2)) as invoice_amount,
        cast(amount_succeeded as decimal(18, 2)) as paid_amount,
        cast(outstanding_amount as decimal(18, 2)) as outstanding_amount,
        cast(amount_usd as decimal(18, 2)) as invoice_amount_usd,
        cast(outstanding_amount_usd as decimal(18, 2)) as outstanding_amount_usd,
        -- dates
        cast(payment_date as date) as invoice_date,
        cast(payment_date as date) as due_date,
        cast(as_of_date as date) as as_of_date,
        cast(created_at as timestamp) as invoiced_at
    from aged

)

select * from final
