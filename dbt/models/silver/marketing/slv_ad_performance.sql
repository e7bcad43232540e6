{{ config(unique_key=['ad_platform', 'ad_unit_id', 'report_date']) }}

{#-
    Daily delivery and results per ad unit (a Google ad group or a Facebook ad). Platforms restate
    recent days; the latest load of a day wins.
-#}

with google_ad_groups as (

    select * from {{ ref('stg_google_ads__ad_groups') }}
    {{ loaded_since_last_build(watermark_rows={'ad_platform': 'google_ads'}) }}

),

facebook_ads as (

    select * from {{ ref('stg_facebook_ads__ads') }}
    {{ loaded_since_last_build(watermark_rows={'ad_platform': 'facebook_ads'}) }}

),

unioned as (

    select
        'google_ads' as ad_platform,
        ad_group_id as ad_unit_id,
        campaign_id,
        ad_group_name as ad_unit_name,
        report_date,
        impressions,
        clicks,
        'USD' as currency_code,
        spend_usd as spend_amount,
        conversions,
        conversion_value_usd as conversion_value,
        _loaded_at
    from google_ad_groups

    union all

    select
        'facebook_ads' as ad_platform,
        ad_id as ad_unit_id,
        campaign_id,
        ad_name as ad_unit_name,
        report_date,
        impressions,
        clicks,
        currency_code,
        spend_amount,
        conversions,
        conversion_value,
        _loaded_at
    from facebook_ads

),

latest as (

    {{ latest_version('unioned', ['ad_platform', 'ad_unit_id', 'report_date'], order_by=['_loaded_at desc']) }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

final as (

    select
        -- keys
        latest.ad_platform,
        latest.ad_unit_id,
        latest.campaign_id,
        latest.report_date,
        -- attributes
        latest.ad_unit_name,
        -- amounts
        latest.impressions,
        latest.clicks,
        latest.conversions,
        latest.currency_code,
        latest.spend_amount,
        latest.conversion_value,
        {{ to_usd('latest.spend_amount', 'latest.currency_code') }} as spend_usd,
        {{ to_usd('latest.conversion_value', 'latest.currency_code') }} as conversion_value_usd,
        -- audit
        latest._loaded_at
    from latest
    {{ join_exchange_rate('latest.currency_code', 'latest.report_date') }}

)

select * from final
