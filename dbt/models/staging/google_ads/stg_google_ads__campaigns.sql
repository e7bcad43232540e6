with source as (

    select * from {{ source('google_ads', 'campaigns') }}

),

renamed as (

    select
        -- keys
        campaign.id as campaign_id,
        cast(segments.date as date) as report_date,
        -- attributes
        campaign.name as campaign_name,
        lower(campaign.status) as campaign_status,
        lower(campaign.advertisingChannelType) as channel_type,
        lower(campaign.biddingStrategyType) as bidding_strategy,
        -- amounts
        cast(campaignBudget.amountMicros / 1000000 as decimal(18, 2)) as daily_budget_usd,
        cast(metrics.impressions as bigint) as impressions,
        cast(metrics.clicks as bigint) as clicks,
        cast(metrics.costMicros / 1000000 as decimal(18, 2)) as spend_usd,
        cast(metrics.conversions as double) as conversions,
        cast(metrics.conversionsValue as decimal(18, 2)) as conversion_value_usd,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
