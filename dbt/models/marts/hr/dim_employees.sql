{#-
    Employees (HR system and Workday) with their organisation, position, job, manager and pay.
    Restricted: names, work email and salary are masked unless the build runs with `unmask_pii` for HR
    analysts (the columns' `meta`).
-#}

with employees as (

    select * from {{ ref('slv_employees') }}

),

organizations as (

    select * from {{ ref('slv_organizations') }}

),

as_of as (

    select greatest(max(to_date(updated_at)), max(hire_date)) as as_of_date
    from employees
    where not is_deleted

),

joined as (

    select
        -- keys
        cast(employees.employee_id as bigint) as employee_id,
        cast(employees.worker_id as string) as worker_id,
        cast(employees.manager_employee_id as bigint) as manager_employee_id,
        cast(employees.organization_id as string) as organization_id,
        cast(employees.position_id as string) as position_id,
        cast(employees.department_id as bigint) as department_id,
        -- attributes
        cast(employees.first_name as string) as first_name,
        cast(employees.last_name as string) as last_name,
        cast(employees.work_email as string) as work_email,
        cast(organizations.organization_code as string) as organization_code,
        cast(employees.organization_name as string) as organization_name,
        cast(employees.job_id as string) as job_id,
        cast(employees.business_title as string) as business_title,
        cast(employees.job_profile as string) as job_profile,
        cast(employees.location_name as string) as location_name,
        cast(employees.employee_status as string) as employee_status,
        cast(employees.is_active as boolean) as is_active,
        cast(employees.is_manager as boolean) as is_manager,
        -- amounts
        cast(employees.monthly_salary_usd as decimal(12, 2)) as monthly_salary_usd,
        cast(employees.annual_salary_usd as decimal(12, 2)) as annual_salary_usd,
        -- dates
        cast(employees.hire_date as date) as hire_date,
        cast(employees.termination_date as date) as termination_date,
        cast(
            datediff(
                case
                    when employees.termination_date <= as_of.as_of_date then employees.termination_date
                    else as_of.as_of_date
                end,
                employees.hire_date
            ) as int
        ) as tenure_days,
        cast(employees.updated_at as timestamp) as updated_at
    from employees
    cross join as_of
    left join organizations
        on employees.organization_id = organizations.organization_id
    where not employees.is_deleted

),

final as (

    select
        {{ select_masked('joined') }}
    from joined

)

select * from final
