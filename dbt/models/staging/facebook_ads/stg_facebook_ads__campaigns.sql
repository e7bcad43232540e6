with source as (

    select * from {{ source('facebook_ads', 'campaigns') }}

),

renamed as (

    select
        -- keys
        id as campaign_id,
        account_id as ad_account_id,
        -- attributes
        name as campaign_name,
        lower(objective) as objective,
        lower(status) as campaign_status,
        lower(effective_status) as effective_status,
        lower(buying_type) as buying_type,
        -- amounts
        cast(daily_budget / 100 as decimal(18, 2)) as daily_budget_usd,
        -- dates
        cast(created_time as timestamp) as created_at,
        cast(start_time as timestamp) as started_at,
        cast(updated_time as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
