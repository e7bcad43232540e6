{#- Paid campaigns on Google Ads and Facebook Ads, with their current settings and delivery to date (USD). -#}

with campaigns as (

    select * from {{ ref('slv_campaigns') }}

),

ad_performance as (

    select * from {{ ref('slv_ad_performance') }}

),

lifetime as (

    select
        ad_platform,
        campaign_id,
        min(report_date) as first_report_date,
        max(report_date) as last_report_date,
        count(distinct ad_unit_id) as ad_unit_count,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend_usd) as spend_usd,
        sum(conversions) as platform_conversions,
        sum(conversion_value_usd) as platform_conversion_value_usd
    from ad_performance
    group by ad_platform, campaign_id

),

final as (

    select
        -- keys
        cast(campaigns.ad_platform as string) as ad_platform,
        cast(campaigns.campaign_id as string) as campaign_id,
        -- attributes
        cast(campaigns.campaign_name as string) as campaign_name,
        cast(campaigns.campaign_status as string) as campaign_status,
        cast(campaigns.channel_type as string) as channel_type,
        cast(campaigns.objective as string) as objective,
        cast(campaigns.is_enabled as boolean) as is_enabled,
        cast(coalesce(lifetime.ad_unit_count, 0) as bigint) as ad_unit_count,
        -- amounts
        cast(campaigns.daily_budget_usd as decimal(18, 2)) as daily_budget_usd,
        cast(coalesce(lifetime.impressions, 0) as bigint) as impressions,
        cast(coalesce(lifetime.clicks, 0) as bigint) as clicks,
        cast(coalesce(lifetime.spend_usd, 0) as decimal(18, 2)) as spend_usd,
        cast(coalesce(lifetime.platform_conversions, 0) as decimal(18, 2)) as platform_conversions,
        cast(coalesce(lifetime.platform_conversion_value_usd, 0) as decimal(18, 2)) as platform_conversion_value_usd,
        -- dates
        cast(campaigns.started_at as timestamp) as started_at,
        cast(lifetime.first_report_date as date) as first_report_date,
        cast(lifetime.last_report_date as date) as last_report_date,
        cast(campaigns.updated_at as timestamp) as updated_at
    from campaigns
    left join lifetime
        on
            campaigns.ad_platform = lifetime.ad_platform
            and campaigns.campaign_id = lifetime.campaign_id

)

select * from final
