{{ config(unique_key='refund_id') }}

{#- Stripe refunds, unnested from their charges (the latest version of each charge lists them all). -#}

with charges as (

    select * from {{ ref('stg_stripe__charges') }}
    {{ loaded_since_last_build() }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by charge_id
            order by updated_at desc, _loaded_at desc
        ) as version_rank
    from charges

),

refunds as (

    select
        ranked.charge_id,
        ranked.customer_id,
        ranked.order_number,
        ranked.updated_at,
        ranked._loaded_at,
        explode(ranked.refunds) as refund
    from ranked
    where ranked.version_rank = 1

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
        -- dates
        to_date(timestamp_seconds(refunds.refund.created)) as refund_date,
        timestamp_seconds(refunds.refund.created) as refunded_at,
        refunds.updated_at,
        -- audit
        refunds._loaded_at
    from refunds
    left join exchange_rates
        on
            upper(refunds.refund.currency) = exchange_rates.currency_code
            and to_date(timestamp_seconds(refunds.refund.created))
            between exchange_rates.valid_from_date and exchange_rates.valid_to_date
    {{ exclude_older_than_current('refunds', 'charge_id') }}

)

select * from final
