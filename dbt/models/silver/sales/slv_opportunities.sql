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

changed_opportunities as (

    select opportunities.opportunity_id
    from opportunities
    {{ loaded_since_last_build('opportunities') }}

    union

    select deals.salesforce_opportunity_id as opportunity_id
    from deals
    {{ loaded_since_last_build('deals') }}

),

opportunities_latest as (

    select *
    from (
        select
            opportunities.*,
            row_number() over (
                partition by opportunities.opportunity_id
                order by opportunities.updated_at desc, opportunities._loaded_at desc
            ) as version_rank
        from opportunities
        inner join changed_opportunities
            on opportunities.opportunity_id = changed_opportunities.opportunity_id
    ) as versions
    where version_rank = 1

),

deals_latest as (

    select *
    from (
        select
            deals.*,
            row_number() over (
                partition by deals.salesforce_opportunity_id
                order by deals.updated_at desc, deals._loaded_at desc
            ) as version_rank
        from deals
        inner join changed_opportunities
            on deals.salesforce_opportunity_id = changed_opportunities.opportunity_id
    ) as versions
    where version_rank = 1

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
            as _loaded_at
    from opportunities_latest
    left join deals_latest
        on opportunities_latest.opportunity_id = deals_latest.salesforce_opportunity_id

),

final as (

    select * from joined
    {{ exclude_older_than_current('joined', 'opportunity_id') }}

)

select * from final
