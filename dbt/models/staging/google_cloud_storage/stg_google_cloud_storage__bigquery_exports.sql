with source as (

    select * from {{ source('google_cloud_storage', 'bigquery_exports') }}

),

renamed as (

    select
        -- keys
        cast(date as date) as report_date,
        source as traffic_source,
        medium as traffic_medium,
        campaign as traffic_campaign,
        lower(platform) as platform,
        -- amounts
        cast(sessions as bigint) as session_count,
        cast(users as bigint) as user_count,
        cast(transactions as bigint) as transaction_count,
        cast(revenue_usd as decimal(14, 2)) as revenue_usd,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
