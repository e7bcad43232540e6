{{ config(unique_key=['ad_platform', 'ad_unit_id', 'report_date']) }}

{#-
    Daily delivery and results per ad unit (a Google ad group or a Facebook ad). Platforms restate
    recent days; the latest load of a day wins.
-#}

with google_ad_groups as (

    select * from {{ ref('stg_google_ads__ad_groups') }}
    {{ loaded_since_last_build() }}

),

facebook_ads as (

    select * from {{ ref('stg_facebook_ads__ads') }}
    {{ loaded_since_last_build() }}

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

ranked as (

    select
        *,
        row_number() over (
            partition by ad_platform, ad_unit_id, report_date
            order by _loaded_at desc
        ) as version_rank
    from unioned

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

final as (

    select
        -- keys
        ranked.ad_platform,
        ranked.ad_unit_id,
        ranked.campaign_id,
        ranked.report_date,
        -- attributes
        ranked.ad_unit_name,
        -- amounts
        ranked.impressions,
        ranked.clicks,
        ranked.conversions,
        ranked.currency_code,
        ranked.spend_amount,
        ranked.conversion_value,
        {{ to_usd('ranked.spend_amount', 'ranked.currency_code') }} as spend_usd,
        {{ to_usd('ranked.conversion_value', 'ranked.currency_code') }} as conversion_value_usd,
        -- audit
        ranked._loaded_at
    from ranked
    left join exchange_rates
        on
            ranked.currency_code = exchange_rates.currency_code
            and ranked.report_date between exchange_rates.valid_from_date and exchange_rates.valid_to_date
    where ranked.version_rank = 1

)

select * from final
