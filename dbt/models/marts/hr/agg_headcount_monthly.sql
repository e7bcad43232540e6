{#-
    Headcount, hires and leavers per month and organisation (restricted: HR).

    Headcount counts employees hired on or before the month's snapshot day and not yet gone by it (an
    employee's termination date is their first day away). The snapshot day is the month's last day,
    or for the month in progress the day of the latest HR change (the data's as-of day). Employees
    count in their current organisation. Every organisation appears every month, with zeros.
-#}

with employees as (

    select * from {{ ref('slv_employees') }}

),

organizations as (

    select * from {{ ref('slv_organizations') }}

),

live_employees as (

    select * from employees
    where not is_deleted

),

as_of as (

    select
        greatest(max(to_date(updated_at)), max(hire_date)) as as_of_date,
        {{ month_start('min(hire_date)') }} as first_month
    from live_employees

),

month_spine as (

    select
        as_of.as_of_date,
        explode(sequence(as_of.first_month, {{ month_start('as_of.as_of_date') }}, interval 1 month))
            as month_start_date
    from as_of

),

months as (

    select
        month_start_date,
        least(last_day(month_start_date), as_of_date) as snapshot_date
    from month_spine

),

organization_months as (

    select
        organizations.organization_id,
        organizations.organization_code,
        organizations.organization_name,
        months.month_start_date,
        months.snapshot_date
    from organizations
    cross join months
    where not organizations.is_deleted

),

employee_months as (

    select
        organization_months.organization_id,
        organization_months.month_start_date,
        count_if(
            live_employees.hire_date <= organization_months.snapshot_date
            and (
                live_employees.termination_date is null
                or live_employees.termination_date > organization_months.snapshot_date
            )
        ) as headcount,
        count_if(
            live_employees.hire_date < organization_months.month_start_date
            and (
                live_employees.termination_date is null
                or live_employees.termination_date >= organization_months.month_start_date
            )
        ) as opening_headcount,
        count_if(
            live_employees.hire_date between organization_months.month_start_date and organization_months.snapshot_date
        ) as hires,
        count_if(
            live_employees.termination_date between organization_months.month_start_date
            and organization_months.snapshot_date
        ) as terminations
    from organization_months
    inner join live_employees
        on organization_months.organization_id = live_employees.organization_id
    group by organization_months.organization_id, organization_months.month_start_date

),

final as (

    select
        -- keys
        cast(organization_months.month_start_date as date) as month_start_date,
        cast(organization_months.organization_id as string) as organization_id,
        -- attributes
        cast(organization_months.organization_code as string) as organization_code,
        cast(organization_months.organization_name as string) as organization_name,
        -- counts
        cast(coalesce(employee_months.opening_headcount, 0) as bigint) as opening_headcount,
        cast(coalesce(employee_months.hires, 0) as bigint) as hires,
        cast(coalesce(employee_months.terminations, 0) as bigint) as terminations,
        cast(coalesce(employee_months.headcount, 0) as bigint) as headcount,
        {{ safe_ratio(
            'coalesce(employee_months.terminations, 0)',
            '(coalesce(employee_months.opening_headcount, 0) + coalesce(employee_months.headcount, 0)) / 2'
        ) }} as attrition_rate,
        -- dates
        cast(organization_months.snapshot_date as date) as snapshot_date
    from organization_months
    left join employee_months
        on
            organization_months.organization_id = employee_months.organization_id
            and organization_months.month_start_date = employee_months.month_start_date

)

select * from final
