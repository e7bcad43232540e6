{{ config(unique_key='charge_id') }}

{#- Stripe charges (shop orders and subscription invoices), latest version of each. Amounts in major units. -#}

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

joined as (

    select
        -- keys
        latest.charge_id,
        latest.customer_id as stripe_customer_id,
        latest.order_number,
        latest.invoice_id,
        latest.payment_intent_id,
        -- attributes
        latest.charge_status,
        case when latest.invoice_id is not null then 'subscription' else 'order' end as payment_purpose,
        latest.failure_code,
        latest.billing_email,
        latest.card_brand,
        latest.card_last4,
        latest.card_country_code,
        latest.charge_status = 'succeeded' as is_succeeded,
        latest.is_refunded,
        latest.is_disputed,
        coalesce(latest._op = 'delete', false) as is_deleted,
        -- amounts
        latest.currency_code,
        latest.amount,
        latest.amount_refunded,
        case when latest.charge_status = 'succeeded' then latest.amount else 0 end as amount_succeeded,
        {{ to_usd('latest.amount', 'latest.currency_code') }} as amount_usd,
        exchange_rates.usd_per_unit,
        -- dates
        to_date(latest.created_at) as payment_date,
        latest.created_at,
        latest.updated_at,
        -- audit
        latest._loaded_at
    from latest
    {{ join_exchange_rate('latest.currency_code', 'to_date(latest.created_at)') }}
    {{ exclude_older_than_current('latest', 'charge_id') }}

),

final as (

    select
        {{ select_masked('joined') }}
    from joined

)

select * from final
