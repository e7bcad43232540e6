{#-
    The B2B pipeline: every Salesforce opportunity (with its HubSpot mirror) that is not deleted, its
    stage, value and weighted value in USD, and how long it has been or was open.
-#}

with opportunities as (

    select * from {{ ref('slv_opportunities') }}

),

live_opportunities as (

    select * from opportunities
    where not is_deleted

),

final as (

    select
        -- keys
        cast(opportunity_id as string) as opportunity_id,
        cast(account_id as string) as account_id,
        cast(owner_user_id as string) as owner_user_id,
        cast(hubspot_deal_id as bigint) as hubspot_deal_id,
        -- attributes
        cast(opportunity_name as string) as opportunity_name,
        cast(stage_name as string) as stage_name,
        cast(hubspot_deal_stage as string) as hubspot_deal_stage,
        cast(
            case
                when is_won then 'won'
                when is_closed then 'lost'
                else 'open'
            end as string
        ) as pipeline_status,
        cast(forecast_category as string) as forecast_category,
        cast(opportunity_type as string) as opportunity_type,
        cast(lead_source as string) as lead_source,
        cast(is_closed as boolean) as is_closed,
        cast(is_won as boolean) as is_won,
        cast(seats as int) as seats,
        -- amounts
        cast(currency_code as string) as currency_code,
        cast(amount as decimal(18, 2)) as amount,
        cast(probability_pct as decimal(5, 2)) as probability_pct,
        cast(amount_usd as decimal(18, 2)) as amount_usd,
        cast(weighted_amount_usd as decimal(18, 2)) as weighted_amount_usd,
        -- dates
        cast(to_date(created_at) as date) as created_date,
        cast(close_date as date) as close_date,
        cast(case when is_closed then datediff(close_date, to_date(created_at)) end as int) as sales_cycle_days,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at
    from live_opportunities

)

select * from final
