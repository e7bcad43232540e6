{#- Workday supervisory organisations with their parent, manager and current headcount (restricted: HR). -#}

with organisations as (

    select * from {{ ref('slv_organisations') }}

),

employees as (

    select * from {{ ref('slv_employees') }}

),

current_headcount as (

    select
        organization_id,
        count(*) as headcount
    from employees
    where is_active and not is_deleted
    group by organization_id

),

final as (

    select
        -- keys
        cast(organisations.organization_id as string) as organization_id,
        cast(organisations.organization_code as string) as organization_code,
        cast(organisations.superior_organization_id as string) as superior_organization_id,
        cast(organisations.manager_worker_id as string) as manager_worker_id,
        -- attributes
        cast(organisations.organization_name as string) as organization_name,
        cast(parents.organization_code as string) as superior_organization_code,
        cast(parents.organization_name as string) as superior_organization_name,
        cast(organisations.organization_type as string) as organization_type,
        cast(organisations.staffing_model as string) as staffing_model,
        cast(organisations.is_active as boolean) as is_active,
        cast(coalesce(current_headcount.headcount, 0) as bigint) as current_headcount,
        -- dates
        cast(organisations.updated_at as timestamp) as updated_at
    from organisations
    left join organisations as parents
        on organisations.superior_organization_id = parents.organization_id
    left join current_headcount
        on organisations.organization_id = current_headcount.organization_id
    where not organisations.is_deleted

)

select * from final
