with source as (

    select * from {{ source('facebook_ads', 'ads') }}

),

renamed as (

    select
        -- keys
        ad_id,
        adset_id as ad_set_id,
        campaign_id,
        account_id as ad_account_id,
        cast(date_start as date) as report_date,
        -- attributes
        ad_name,
        adset_name as ad_set_name,
        campaign_name,
        -- amounts
        upper(account_currency) as currency_code,
        cast(impressions as bigint) as impressions,
        cast(reach as bigint) as reach,
        cast(clicks as bigint) as clicks,
        cast(spend as decimal(18, 2)) as spend_amount,
        coalesce(
            cast(
                try_element_at(
                    filter(actions, action -> action.action_type = 'offsite_conversion.fb_pixel_purchase'), 1
                ).value
                as double
            ),
            0
        ) as conversions,
        coalesce(
            cast(
                try_element_at(
                    filter(action_values, action -> action.action_type = 'offsite_conversion.fb_pixel_purchase'), 1
                ).value
                as decimal(18, 2)
            ),
            0
        ) as conversion_value,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
