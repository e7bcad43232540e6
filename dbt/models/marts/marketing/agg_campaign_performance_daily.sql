{#-
    Daily performance of every paid campaign on Google Ads and Facebook Ads in USD: delivery and the
    platform's own conversions (summed over the campaign's ad groups or ads), the orders placed in
    sessions that started from the campaign's clicks that day, and the revenue each attribution model
    credits to the campaign for orders placed that day. A campaign-day with attributed orders but no
    delivery (a paused campaign's earlier clicks converting) is kept, with zero spend.
-#}

with ad_performance as (

    select * from {{ ref('slv_ad_performance') }}

),

campaigns as (

    select * from {{ ref('slv_campaigns') }}

),

sessions as (

    select * from {{ ref('slv_web_sessions') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

attribution as (

    select * from {{ ref('fct_order_attribution') }}

),

delivery as (

    select
        ad_platform,
        campaign_id,
        report_date,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend_usd) as spend_usd,
        sum(conversions) as platform_conversions,
        sum(conversion_value_usd) as platform_conversion_value_usd
    from ad_performance
    group by ad_platform, campaign_id, report_date

),

paid_traffic as (

    select
        order_number,
        utm_campaign,
        session_date,
        case utm_source
            when 'google' then 'google_ads'
            when 'facebook' then 'facebook_ads'
        end as ad_platform
    from sessions
    where is_paid_traffic and order_number is not null

),

session_orders as (

    -- orders placed in a session that started from the campaign's click (the platforms' own definition)
    select
        campaigns.ad_platform,
        campaigns.campaign_id,
        paid_traffic.session_date as report_date,
        count(distinct orders.order_id) as session_orders,
        sum(orders.order_amount_usd) as session_revenue_usd
    from paid_traffic
    inner join campaigns
        on
            paid_traffic.ad_platform = campaigns.ad_platform
            and paid_traffic.utm_campaign = campaigns.campaign_name
    inner join orders
        on paid_traffic.order_number = orders.order_number
    group by campaigns.ad_platform, campaigns.campaign_id, paid_traffic.session_date

),

attributed as (

    select
        ad_platform,
        campaign_id,
        order_date as report_date,
        sum(first_touch_credit) as first_touch_orders,
        sum(last_touch_credit) as last_touch_orders,
        sum(linear_credit) as linear_orders,
        sum(first_touch_revenue_usd) as first_touch_revenue_usd,
        sum(last_touch_revenue_usd) as last_touch_revenue_usd,
        sum(linear_revenue_usd) as linear_revenue_usd
    from attribution
    group by ad_platform, campaign_id, order_date

),

campaign_days as (

    select
        ad_platform,
        campaign_id,
        report_date
    from delivery

    union

    select
        ad_platform,
        campaign_id,
        report_date
    from session_orders

    union

    select
        ad_platform,
        campaign_id,
        report_date
    from attributed

),

joined as (

    select
        campaign_days.ad_platform,
        campaign_days.campaign_id,
        campaign_days.report_date,
        campaigns.campaign_name,
        campaigns.channel_type,
        coalesce(delivery.impressions, 0) as impressions,
        coalesce(delivery.clicks, 0) as clicks,
        coalesce(delivery.spend_usd, 0) as spend_usd,
        coalesce(delivery.platform_conversions, 0) as platform_conversions,
        coalesce(delivery.platform_conversion_value_usd, 0) as platform_conversion_value_usd,
        coalesce(session_orders.session_orders, 0) as session_orders,
        coalesce(session_orders.session_revenue_usd, 0) as session_revenue_usd,
        coalesce(attributed.first_touch_orders, 0) as first_touch_orders,
        coalesce(attributed.last_touch_orders, 0) as last_touch_orders,
        coalesce(attributed.linear_orders, 0) as linear_orders,
        coalesce(attributed.first_touch_revenue_usd, 0) as first_touch_revenue_usd,
        coalesce(attributed.last_touch_revenue_usd, 0) as last_touch_revenue_usd,
        coalesce(attributed.linear_revenue_usd, 0) as linear_revenue_usd
    from campaign_days
    left join campaigns
        on
            campaign_days.ad_platform = campaigns.ad_platform
            and campaign_days.campaign_id = campaigns.campaign_id
    left join delivery
        on
            campaign_days.ad_platform = delivery.ad_platform
            and campaign_days.campaign_id = delivery.campaign_id
            and campaign_days.report_date = delivery.report_date
    left join session_orders
        on
            campaign_days.ad_platform = session_orders.ad_platform
            and campaign_days.campaign_id = session_orders.campaign_id
            and campaign_days.report_date = session_orders.report_date
    left join attributed
        on
            campaign_days.ad_platform = attributed.ad_platform
            and campaign_days.campaign_id = attributed.campaign_id
            and campaign_days.report_date = attributed.report_date

),

final as (

    select
        -- keys
        cast(ad_platform as string) as ad_platform,
        cast(campaign_id as string) as campaign_id,
        cast(report_date as date) as report_date,
        -- attributes
        cast(campaign_name as string) as campaign_name,
        cast(channel_type as string) as channel_type,
        -- delivery
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend_usd as decimal(18, 2)) as spend_usd,
        {{ safe_ratio('clicks', 'impressions', 6) }} as click_through_rate,
        {{ safe_ratio('spend_usd', 'clicks', 4) }} as cost_per_click_usd,
        -- results as the platform reports them
        cast(platform_conversions as decimal(18, 2)) as platform_conversions,
        cast(platform_conversion_value_usd as decimal(18, 2)) as platform_conversion_value_usd,
        {{ safe_ratio('spend_usd', 'platform_conversions', 2) }} as cost_per_acquisition_usd,
        {{ safe_ratio('platform_conversion_value_usd', 'spend_usd', 4) }} as return_on_ad_spend,
        -- results from the shop's own data
        cast(session_orders as bigint) as session_orders,
        cast(session_revenue_usd as decimal(18, 2)) as session_revenue_usd,
        cast(first_touch_orders as decimal(18, 6)) as first_touch_orders,
        cast(last_touch_orders as decimal(18, 6)) as last_touch_orders,
        cast(linear_orders as decimal(18, 6)) as linear_orders,
        cast(first_touch_revenue_usd as decimal(18, 2)) as first_touch_revenue_usd,
        cast(last_touch_revenue_usd as decimal(18, 2)) as last_touch_revenue_usd,
        cast(linear_revenue_usd as decimal(18, 2)) as linear_revenue_usd,
        {{ safe_ratio('last_touch_revenue_usd', 'spend_usd', 4) }} as last_touch_return_on_ad_spend
    from joined

)

select * from final
