{{ config(unique_key='lead_id') }}

{#- Salesforce leads, latest version of each; soft-deleted leads (IsDeleted) are kept and flagged. -#}

with leads as (

    select * from {{ ref('stg_salesforce__leads') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('leads', 'lead_id') }}

),

joined as (

    select
        -- keys
        latest.lead_id,
        latest.owner_user_id,
        latest.converted_account_id,
        latest.converted_opportunity_id,
        -- attributes
        latest.email,
        latest.phone,
        latest.first_name,
        latest.last_name,
        latest.company_name,
        latest.job_title,
        latest.lead_status,
        latest.lead_source,
        latest.city,
        latest.country_name,
        latest.is_converted,
        coalesce(latest.is_deleted or latest._op = 'delete', false) as is_deleted,
        -- dates
        latest.converted_date,
        latest.created_at,
        latest.updated_at,
        -- audit
        latest._loaded_at
    from latest
    {{ exclude_older_than_current('latest', 'lead_id') }}

),

final as (

    select
        {{ select_masked('joined') }}
    from joined

)

select * from final
