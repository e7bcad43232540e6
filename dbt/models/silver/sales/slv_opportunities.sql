{{ config(unique_key='opportunity_id') }}

{#-
    Salesforce opportunities (the system of record for B2B deals), with the HubSpot deal that mirrors
    each one. Rebuilt when either system changes it.
-#}

with opportunities as (

    select * from {{ ref('stg_salesforce__opportunities') }}

),

deals as (

    select * from {{ ref('stg_hubspot__deals') }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

changed_opportunities as (

    select opportunities.opportunity_id
    from opportunities
    {{ loaded_since_last_build('opportunities', watermark_column='_salesforce_loaded_at') }}

    union

    select deals.salesforce_opportunity_id as opportunity_id
    from deals
    {{ loaded_since_last_build('deals', watermark_column='_hubspot_loaded_at') }}

),

opportunities_latest as (

    {{ latest_version(
        'opportunities', 'opportunity_id',
        where='opportunity_id in (select opportunity_id from changed_opportunities)',
    ) }}

),

deals_latest as (

    {{ latest_version(
        'deals', 'salesforce_opportunity_id',
        where='salesforce_opportunity_id in (select opportunity_id from changed_opportunities)',
    ) }}

),

joined as (

    select
        -- keys
        opportunities_latest.opportunity_id,
        opportunities_latest.account_id,
        opportunities_latest.owner_user_id,
        deals_latest.deal_id as hubspot_deal_id,
        deals_latest.company_id as hubspot_company_id,
        -- attributes
        opportunities_latest.opportunity_name,
        opportunities_latest.stage_name,
        deals_latest.deal_stage as hubspot_deal_stage,
        opportunities_latest.opportunity_type,
        opportunities_latest.lead_source,
        opportunities_latest.forecast_category,
        opportunities_latest.is_closed,
        opportunities_latest.is_won,
        coalesce(opportunities_latest.is_deleted or opportunities_latest._op = 'delete', false) as is_deleted,
        coalesce(deals_latest.is_archived, false) as is_hubspot_deal_archived,
        -- amounts
        opportunities_latest.currency_code,
        opportunities_latest.amount,
        opportunities_latest.probability_pct,
        cast(opportunities_latest.amount * opportunities_latest.probability_pct / 100 as decimal(18, 2))
            as weighted_amount,
        opportunities_latest.seats,
        -- dates
        opportunities_latest.close_date,
        opportunities_latest.created_at,
        greatest(opportunities_latest.updated_at, coalesce(deals_latest.updated_at, opportunities_latest.updated_at))
            as updated_at,
        -- audit
        greatest(opportunities_latest._loaded_at, coalesce(deals_latest._loaded_at, opportunities_latest._loaded_at))
            as _loaded_at,
        -- each system's load time of the version joined here: the per-system incremental watermarks
        opportunities_latest._loaded_at as _salesforce_loaded_at,
        deals_latest._loaded_at as _hubspot_loaded_at
    from opportunities_latest
    left join deals_latest
        on opportunities_latest.opportunity_id = deals_latest.salesforce_opportunity_id

),

final as (

    select
        joined.*,
        {{ to_usd('joined.amount', 'joined.currency_code') }} as amount_usd,
        {{ to_usd('joined.amount * joined.probability_pct / 100', 'joined.currency_code') }} as weighted_amount_usd
    from joined
    {{ join_exchange_rate('joined.currency_code', 'to_date(joined.created_at)') }}
    {{ exclude_older_than_current('joined', 'opportunity_id') }}

)

select * from final
