{#-
    Leads and the deals they became: every Salesforce lead not in the recycle bin, the customer it
    resolves to, and, once converted, its opportunity (with the HubSpot deal mirroring it), status and
    value in USD.
-#}

with leads as (

    select * from {{ ref('slv_leads') }}

),

identity_map as (

    select * from {{ ref('slv_customer_identity_map') }}

),

pipeline as (

    select * from {{ ref('fct_sales_pipeline') }}

),

joined as (

    select
        leads.*,
        identity_map.customer_key,
        pipeline.hubspot_deal_id,
        pipeline.pipeline_status,
        pipeline.stage_name as opportunity_stage_name,
        pipeline.amount_usd as opportunity_amount_usd,
        pipeline.is_won
    from leads
    left join identity_map
        on
            identity_map.source_system = 'salesforce.leads'
            and leads.lead_id = identity_map.source_record_id
    left join pipeline
        on leads.converted_opportunity_id = pipeline.opportunity_id
    where not leads.is_deleted

),

final as (

    select
        -- keys
        cast(lead_id as string) as lead_id,
        cast(customer_key as string) as customer_key,
        cast(owner_user_id as string) as owner_user_id,
        cast(converted_opportunity_id as string) as converted_opportunity_id,
        cast(hubspot_deal_id as bigint) as hubspot_deal_id,
        -- attributes
        cast(lead_source as string) as lead_source,
        cast(lead_status as string) as lead_status,
        cast(company_name as string) as company_name,
        cast(job_title as string) as job_title,
        cast(country_name as string) as country_name,
        cast(is_converted as boolean) as is_converted,
        cast(coalesce(pipeline_status, 'none') as string) as deal_status,
        cast(opportunity_stage_name as string) as opportunity_stage_name,
        cast(coalesce(is_won, false) as boolean) as is_won,
        -- amounts
        cast(opportunity_amount_usd as decimal(18, 2)) as opportunity_amount_usd,
        cast(case when is_won then opportunity_amount_usd else 0 end as decimal(18, 2)) as won_amount_usd,
        -- dates
        cast(to_date(created_at) as date) as created_date,
        {{ month_start('created_at') }} as created_month,
        cast(converted_date as date) as converted_date,
        cast(datediff(converted_date, to_date(created_at)) as int) as days_to_convert,
        cast(created_at as timestamp) as created_at
    from joined

)

select * from final
