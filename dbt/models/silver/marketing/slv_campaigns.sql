{{ config(unique_key=['ad_platform', 'campaign_id']) }}

{#-
    Paid campaigns on Google Ads and Facebook. Google reports campaigns only as daily metric rows, so a
    campaign's attributes come from its latest row and its first day from its earliest; a campaign is
    rebuilt from all its rows whenever a new one lands.
-#}

with google_campaign_days as (

    select * from {{ ref('stg_google_ads__campaigns') }}

),

facebook_campaigns as (

    select * from {{ ref('stg_facebook_ads__campaigns') }}
    {{ loaded_since_last_build(watermark_rows={'ad_platform': 'facebook_ads'}) }}

),

changed_google_campaigns as (

    select distinct google_campaign_days.campaign_id
    from google_campaign_days
    {{ loaded_since_last_build('google_campaign_days', watermark_rows={'ad_platform': 'google_ads'}) }}

),

google_ranked as (

    select
        google_campaign_days.*,
        row_number() over (
            partition by google_campaign_days.campaign_id
            order by google_campaign_days.report_date desc, google_campaign_days._loaded_at desc
        ) as version_rank,
        min(google_campaign_days.report_date) over (partition by google_campaign_days.campaign_id) as first_report_date,
        max(google_campaign_days._loaded_at) over (partition by google_campaign_days.campaign_id) as last_loaded_at
    from google_campaign_days
    inner join changed_google_campaigns
        on google_campaign_days.campaign_id = changed_google_campaigns.campaign_id

),

google as (

    select
        'google_ads' as ad_platform,
        campaign_id,
        campaign_name,
        campaign_status,
        channel_type,
        cast(null as string) as objective,
        daily_budget_usd,
        cast(first_report_date as timestamp) as started_at,
        cast(report_date as timestamp) as updated_at,
        last_loaded_at as _loaded_at
    from google_ranked
    where version_rank = 1

),

facebook_latest as (

    {{ latest_version('facebook_campaigns', 'campaign_id') }}

),

facebook as (

    select
        'facebook_ads' as ad_platform,
        campaign_id,
        campaign_name,
        case campaign_status when 'active' then 'enabled' else campaign_status end as campaign_status,
        'social' as channel_type,
        objective,
        daily_budget_usd,
        started_at,
        updated_at,
        _loaded_at
    from facebook_latest

),

unioned as (

    select * from google
    union all
    select * from facebook

),

final as (

    select
        -- keys
        ad_platform,
        campaign_id,
        -- attributes
        campaign_name,
        campaign_status,
        channel_type,
        objective,
        campaign_status = 'enabled' as is_enabled,
        -- amounts
        daily_budget_usd,
        -- dates
        started_at,
        updated_at,
        -- audit
        _loaded_at
    from unioned
    {{ exclude_older_than_current('unioned', ['ad_platform', 'campaign_id']) }}

)

select * from final
