{{ config(unique_key='organization_id') }}

{#- Workday supervisory organisations, latest version of each. -#}

with organizations as (

    select * from {{ ref('stg_workday__organizations') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('organizations', 'organization_id') }}

),

final as (

    select
        -- keys
        organization_id,
        organization_code,
        superior_organization_id,
        manager_worker_id,
        -- attributes
        organization_name,
        organization_type,
        staffing_model,
        is_active,
        coalesce(_op = 'delete', false) as is_deleted,
        -- dates
        updated_at,
        -- audit
        _loaded_at
    from latest
    {{ exclude_older_than_current('latest', 'organization_id') }}

)

select * from final
