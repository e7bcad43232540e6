{{ config(unique_key='refund_id') }}

{#- Stripe refunds, unnested from their charges (the latest version of each charge lists them all). -#}

with charges as (

    select * from {{ ref('stg_stripe__charges') }}
    {{ loaded_since_last_build() }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

latest as (

    {{ latest_version('charges', 'charge_id') }}

),

refunds as (

    select
        latest.charge_id,
        latest.customer_id,
        latest.order_number,
        latest.updated_at,
        latest._loaded_at,
        explode(latest.refunds) as refund
    from latest

),

final as (

    select
        -- keys
        refunds.refund.id as refund_id,
        refunds.charge_id,
        refunds.customer_id as stripe_customer_id,
        refunds.order_number,
        refunds.refund.balance_transaction as balance_transaction_id,
        -- attributes
        lower(refunds.refund.status) as refund_status,
        refunds.refund.reason as refund_reason,
        -- amounts
        upper(refunds.refund.currency) as currency_code,
        cast(refunds.refund.amount / 100 as decimal(18, 2)) as refund_amount,
        {{ to_usd('refunds.refund.amount / 100', 'upper(refunds.refund.currency)') }} as refund_amount_usd,
        exchange_rates.usd_per_unit,
        -- dates
        to_date(timestamp_seconds(refunds.refund.created)) as refund_date,
        timestamp_seconds(refunds.refund.created) as refunded_at,
        refunds.updated_at,
        -- audit
        refunds._loaded_at
    from refunds
    {{ join_exchange_rate('upper(refunds.refund.currency)', 'to_date(timestamp_seconds(refunds.refund.created))') }}
    {{ exclude_older_than_current('refunds', 'charge_id') }}

)

select * from final
