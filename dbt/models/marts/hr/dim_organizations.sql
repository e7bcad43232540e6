{#- Workday supervisory organizations with their parent, manager and current headcount (restricted: HR). -#}

with organizations as (

    select * from {{ ref('slv_organizations') }}

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
        cast(organizations.organization_id as string) as organization_id,
        cast(organizations.organization_code as string) as organization_code,
        cast(organizations.superior_organization_id as string) as superior_organization_id,
        cast(organizations.manager_worker_id as string) as manager_worker_id,
        -- attributes
        cast(organizations.organization_name as string) as organization_name,
        cast(parents.organization_code as string) as superior_organization_code,
        cast(parents.organization_name as string) as superior_organization_name,
        cast(organizations.organization_type as string) as organization_type,
        cast(organizations.staffing_model as string) as staffing_model,
        cast(organizations.is_active as boolean) as is_active,
        cast(coalesce(current_headcount.headcount, 0) as bigint) as current_headcount,
        -- dates
        cast(organizations.updated_at as timestamp) as updated_at
    from organizations
    left join organizations as parents
        on organizations.superior_organization_id = parents.organization_id
    left join current_headcount
        on organizations.organization_id = current_headcount.organization_id
    where not organizations.is_deleted

)

select * from final
