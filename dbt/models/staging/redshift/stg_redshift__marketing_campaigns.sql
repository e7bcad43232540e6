with source as (

    select * from {{ source('redshift', 'marketing_campaigns') }}

),

renamed as (

    select
        -- keys
        cast(campaign_id as string) as campaign_id,
        cast(date as date) as report_date,
        -- attributes
        campaign_name,
        lower(campaign_status) as campaign_status,
        lower(channel_type) as channel_type,
        -- amounts
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(cost as decimal(12, 2)) as spend_amount,
        cast(conversions as double) as conversions,
        cast(conversion_value as decimal(12, 2)) as conversion_value,
        upper(currency_code) as currency_code,
        -- dates
        cast(synced_at as timestamp) as synced_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
