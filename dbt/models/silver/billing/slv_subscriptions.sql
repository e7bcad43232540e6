{{ config(unique_key='subscription_id') }}

{#-
    Trail Club subscriptions: Stripe holds billing (status, periods, price, quantity), the app holds the
    plan code, the app user and how the subscription was sold. A subscription is rebuilt from the
    latest version in both systems whenever either changes.
-#}

with stripe_subscriptions as (

    select * from {{ ref('stg_stripe__subscriptions') }}

),

app_subscriptions as (

    select * from {{ ref('stg_postgres__subscriptions') }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

changed_subscriptions as (

    select stripe_subscriptions.subscription_id
    from stripe_subscriptions
    {{ loaded_since_last_build('stripe_subscriptions', watermark_column='_stripe_loaded_at') }}

    union

    select app_subscriptions.stripe_subscription_id as subscription_id
    from app_subscriptions
    {{ loaded_since_last_build('app_subscriptions', watermark_column='_app_loaded_at') }}

),

stripe_latest as (

    {{ latest_version(
        'stripe_subscriptions', 'subscription_id',
        where='subscription_id in (select subscription_id from changed_subscriptions)',
    ) }}

),

app_versions as (

    {{ latest_version(
        'app_subscriptions', 'stripe_subscription_id',
        where='stripe_subscription_id in (select subscription_id from changed_subscriptions)',
    ) }}

),

app_latest as (

    -- an app row deleted at the source (its latest version a delete) contributes nothing but its load time
    select
        app_versions.stripe_subscription_id,
        if(app_versions._op = 'delete', null, app_versions.subscription_id) as subscription_id,
        if(app_versions._op = 'delete', null, app_versions.user_id) as user_id,
        if(app_versions._op = 'delete', null, app_versions.salesforce_opportunity_id) as salesforce_opportunity_id,
        if(app_versions._op = 'delete', null, app_versions.plan_code) as plan_code,
        if(app_versions._op = 'delete', null, app_versions.acquisition_channel) as acquisition_channel,
        app_versions.updated_at,
        app_versions._loaded_at
    from app_versions

),

joined as (

    select
        -- keys
        stripe_latest.subscription_id,
        app_latest.subscription_id as app_subscription_id,
        stripe_latest.customer_id as stripe_customer_id,
        app_latest.user_id as app_user_id,
        stripe_latest.price_id,
        coalesce(stripe_latest.salesforce_opportunity_id, app_latest.salesforce_opportunity_id)
            as salesforce_opportunity_id,
        -- attributes
        coalesce(app_latest.plan_code, regexp_extract(stripe_latest.price_id, '^price_([a-z]+)_', 1)) as plan_code,
        stripe_latest.subscription_status,
        coalesce(app_latest.acquisition_channel, 'self_serve') as acquisition_channel,
        stripe_latest.billing_interval,
        stripe_latest.is_cancel_at_period_end,
        stripe_latest.ended_at is null
        and stripe_latest.subscription_status in ('active', 'past_due') as is_active,
        coalesce(stripe_latest._op = 'delete', false) as is_deleted,
        -- amounts
        stripe_latest.quantity,
        stripe_latest.currency_code,
        stripe_latest.unit_amount,
        case
            when stripe_latest.ended_at is null and stripe_latest.subscription_status in ('active', 'past_due')
                then cast(stripe_latest.unit_amount * stripe_latest.quantity as decimal(18, 2))
            else cast(0 as decimal(18, 2))
        end as mrr_amount,
        -- dates
        stripe_latest.current_period_start_at,
        stripe_latest.current_period_end_at,
        stripe_latest.cancel_at,
        stripe_latest.canceled_at,
        stripe_latest.ended_at,
        stripe_latest.started_at,
        greatest(stripe_latest.updated_at, coalesce(app_latest.updated_at, stripe_latest.updated_at)) as updated_at,
        -- audit
        greatest(stripe_latest._loaded_at, coalesce(app_latest._loaded_at, stripe_latest._loaded_at)) as _loaded_at,
        -- each system's load time of the version joined here: the per-system incremental watermarks
        stripe_latest._loaded_at as _stripe_loaded_at,
        app_latest._loaded_at as _app_loaded_at
    from stripe_latest
    left join app_latest
        on stripe_latest.subscription_id = app_latest.stripe_subscription_id

),

final as (

    select
        joined.*,
        {{ to_usd('joined.mrr_amount', 'joined.currency_code') }} as mrr_amount_usd,
        {{ to_usd('joined.unit_amount * joined.quantity', 'joined.currency_code') }} as subscription_amount_usd
    from joined
    {{ join_exchange_rate('joined.currency_code', 'to_date(joined.updated_at)') }}
    {{ exclude_older_than_current('joined', 'subscription_id') }}

)

select * from final
