with source as (

    select * from {{ source('google_ads', 'ad_groups') }}

),

renamed as (

    select
        -- keys
        adGroup.id as ad_group_id,
        try_element_at(split(adGroup.campaign, '/'), -1) as campaign_id,
        cast(segments.date as date) as report_date,
        -- attributes
        adGroup.name as ad_group_name,
        lower(adGroup.status) as ad_group_status,
        lower(adGroup.type) as ad_group_type,
        -- amounts
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
