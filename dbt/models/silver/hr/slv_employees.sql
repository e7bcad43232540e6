{{ config(unique_key='employee_id') }}

{#-
    Employees: the HR system (Oracle) holds pay and personal contact details, Workday the job, position
    and organisation. Restricted (schema `hr`): salary and contact details are masked unless the build
    runs with `unmask_pii` for HR analysts. Rebuilt when either system changes the employee.
-#}

with hr_employees as (

    select * from {{ ref('stg_oracle__employee_data') }}

),

workers as (

    select * from {{ ref('stg_workday__employees') }}

),

changed_employees as (

    select hr_employees.employee_id
    from hr_employees
    {{ loaded_since_last_build('hr_employees', watermark_column='_oracle_loaded_at') }}

    union

    select workers.employee_id
    from workers
    {{ loaded_since_last_build('workers', watermark_column='_workday_loaded_at') }}

),

hr_latest as (

    {{ latest_version(
        'hr_employees', 'employee_id',
        where='employee_id in (select employee_id from changed_employees)',
    ) }}

),

workers_latest as (

    {{ latest_version(
        'workers', 'employee_id',
        where='employee_id in (select employee_id from changed_employees)',
    ) }}

),

joined as (

    select
        -- keys
        hr_latest.employee_id,
        workers_latest.worker_id,
        hr_latest.manager_employee_id,
        workers_latest.manager_worker_id,
        hr_latest.department_id,
        workers_latest.organization_id,
        workers_latest.position_id,
        -- attributes
        hr_latest.first_name,
        hr_latest.last_name,
        hr_latest.email,
        hr_latest.phone,
        workers_latest.work_email,
        hr_latest.job_id,
        workers_latest.business_title,
        workers_latest.job_profile,
        workers_latest.organization_name,
        workers_latest.location_name,
        hr_latest.employee_status,
        hr_latest.employee_status = 'ACTIVE' as is_active,
        coalesce(workers_latest.is_manager, false) as is_manager,
        coalesce(hr_latest._op = 'delete', false) as is_deleted,
        -- amounts
        hr_latest.monthly_salary_usd,
        cast(hr_latest.monthly_salary_usd * 12 as decimal(12, 2)) as annual_salary_usd,
        hr_latest.commission_pct,
        -- dates
        hr_latest.hire_date,
        hr_latest.termination_date,
        greatest(hr_latest.updated_at, coalesce(workers_latest.updated_at, hr_latest.updated_at)) as updated_at,
        -- audit
        greatest(hr_latest._loaded_at, coalesce(workers_latest._loaded_at, hr_latest._loaded_at)) as _loaded_at,
        -- each system's load time of the version joined here: the per-system incremental watermarks
        hr_latest._loaded_at as _oracle_loaded_at,
        workers_latest._loaded_at as _workday_loaded_at
    from hr_latest
    left join workers_latest
        on hr_latest.employee_id = workers_latest.employee_id

),

final as (

    select
        {{ select_masked('joined') }}
    from joined
    {{ exclude_older_than_current('joined', 'employee_id') }}

)

select * from final
