{#-
    Multi-touch attribution of shop orders to paid campaigns. A touch is a paid session (Google Ads or
    Facebook Ads click) of the buyer that started at most `attribution_lookback_days` before the order,
    or the paid session the order was placed in. Each order with at least one touch gives a credit of 1
    per model: all of it to the earliest touch's campaign (first touch), all of it to the latest's (last
    touch), or shared equally over the touches (linear). Cancelled orders are left out.
-#}

{%- set lookback_days = var('attribution_lookback_days') | int %}

with orders as (

    select * from {{ ref('fct_orders') }}

),

sessions as (

    select * from {{ ref('slv_web_sessions') }}

),

campaigns as (

    select * from {{ ref('slv_campaigns') }}

),

identity_map as (

    select * from {{ ref('slv_customer_identity_map') }}

),

paid_traffic as (

    select
        session_id,
        order_number,
        app_user_id,
        utm_campaign,
        started_at,
        case utm_source
            when 'google' then 'google_ads'
            when 'facebook' then 'facebook_ads'
        end as ad_platform
    from sessions
    where is_paid_traffic

),

paid_sessions as (

    -- the campaign a paid session came from (its utm_campaign is the campaign's name) and its visitor
    select
        paid_traffic.session_id,
        paid_traffic.order_number,
        paid_traffic.started_at,
        campaigns.ad_platform,
        campaigns.campaign_id,
        app_users.customer_key
    from paid_traffic
    inner join campaigns
        on
            paid_traffic.ad_platform = campaigns.ad_platform
            and paid_traffic.utm_campaign = campaigns.campaign_name
    left join identity_map as app_users
        on
            cast(paid_traffic.app_user_id as string) = app_users.source_record_id
            and app_users.source_system = 'postgres.users'

),

attributable_orders as (

    select
        order_id,
        order_number,
        customer_key,
        ordered_at,
        order_date,
        order_amount_usd
    from orders
    where not is_cancelled

),

touches as (

    -- the buyer's paid sessions in the lookback window
    select
        attributable_orders.order_id,
        paid_sessions.session_id,
        paid_sessions.started_at,
        paid_sessions.ad_platform,
        paid_sessions.campaign_id
    from attributable_orders
    inner join paid_sessions
        on
            attributable_orders.customer_key = paid_sessions.customer_key
            and attributable_orders.ordered_at >= paid_sessions.started_at
            and attributable_orders.ordered_at - interval {{ lookback_days }} days <= paid_sessions.started_at

    union

    -- the session the order was placed in, even when its visitor is not resolved to the buyer
    select
        attributable_orders.order_id,
        paid_sessions.session_id,
        paid_sessions.started_at,
        paid_sessions.ad_platform,
        paid_sessions.campaign_id
    from attributable_orders
    inner join paid_sessions
        on attributable_orders.order_number = paid_sessions.order_number

),

ranked_touches as (

    select
        *,
        row_number() over (partition by order_id order by started_at asc, session_id asc) as touch_from_first,
        row_number() over (partition by order_id order by started_at desc, session_id desc) as touch_from_last,
        count(*) over (partition by order_id) as order_touch_count
    from touches

),

campaign_credits as (

    select
        order_id,
        ad_platform,
        campaign_id,
        max(order_touch_count) as order_touch_count,
        count(*) as touch_count,
        max(case when touch_from_first = 1 then 1 else 0 end) as first_touch_credit,
        max(case when touch_from_last = 1 then 1 else 0 end) as last_touch_credit,
        min(started_at) as first_touch_at,
        max(started_at) as last_touch_at
    from ranked_touches
    group by order_id, ad_platform, campaign_id

),

final as (

    select
        -- keys
        cast(attributable_orders.order_id as bigint) as order_id,
        cast(campaign_credits.ad_platform as string) as ad_platform,
        cast(campaign_credits.campaign_id as string) as campaign_id,
        cast(attributable_orders.customer_key as string) as customer_key,
        -- touches
        cast(campaign_credits.touch_count as int) as touch_count,
        cast(campaign_credits.order_touch_count as int) as order_touch_count,
        -- credits (each model's credits of an order add up to 1)
        cast(campaign_credits.first_touch_credit as decimal(9, 6)) as first_touch_credit,
        cast(campaign_credits.last_touch_credit as decimal(9, 6)) as last_touch_credit,
        cast(round(campaign_credits.touch_count / campaign_credits.order_touch_count, 6) as decimal(9, 6))
            as linear_credit,
        -- amounts, in USD
        cast(attributable_orders.order_amount_usd as decimal(18, 2)) as order_amount_usd,
        cast(attributable_orders.order_amount_usd * campaign_credits.first_touch_credit as decimal(18, 2))
            as first_touch_revenue_usd,
        cast(attributable_orders.order_amount_usd * campaign_credits.last_touch_credit as decimal(18, 2))
            as last_touch_revenue_usd,
        cast(
            round(
                attributable_orders.order_amount_usd
                * campaign_credits.touch_count
                / campaign_credits.order_touch_count,
                2
            ) as decimal(18, 2)
        ) as linear_revenue_usd,
        -- dates
        cast(attributable_orders.order_date as date) as order_date,
        cast(attributable_orders.ordered_at as timestamp) as ordered_at,
        cast(campaign_credits.first_touch_at as timestamp) as first_touch_at,
        cast(campaign_credits.last_touch_at as timestamp) as last_touch_at
    from campaign_credits
    inner join attributable_orders
        on campaign_credits.order_id = attributable_orders.order_id

)

select * from final
