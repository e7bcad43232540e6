{#-
    Payroll cost per pay month and organisation (restricted: HR): employees paid, gross pay, tax withheld,
    benefits and net pay in USD (converted in silver at the reference rate on each pay date). Pay amounts
    come from the restricted silver payroll, so they are null unless the build runs with `unmask_pii`
    (HR builds).
-#}

with payroll as (

    select * from {{ ref('slv_payroll') }}

),

employees as (

    select * from {{ ref('slv_employees') }}

),

organizations as (

    select * from {{ ref('slv_organizations') }}

),

monthly as (

    select
        {{ month_start('payroll.pay_period_start_date') }} as pay_month,
        employees.organization_id,
        count(distinct payroll.employee_id) as employees_paid,
        sum(payroll.gross_pay_usd) as gross_pay_usd,
        sum(payroll.tax_withheld_usd) as tax_withheld_usd,
        sum(payroll.benefits_deduction_usd) as benefits_deduction_usd,
        sum(payroll.net_pay_usd) as net_pay_usd
    from payroll
    inner join employees
        on payroll.employee_id = employees.employee_id
    group by 1, 2

),

final as (

    select
        -- keys
        cast(monthly.pay_month as date) as pay_month,
        cast(monthly.organization_id as string) as organization_id,
        -- attributes
        cast(organizations.organization_code as string) as organization_code,
        cast(organizations.organization_name as string) as organization_name,
        cast(monthly.employees_paid as bigint) as employees_paid,
        -- amounts, in USD
        cast(monthly.gross_pay_usd as decimal(18, 2)) as gross_pay_usd,
        cast(monthly.tax_withheld_usd as decimal(18, 2)) as tax_withheld_usd,
        cast(monthly.benefits_deduction_usd as decimal(18, 2)) as benefits_deduction_usd,
        cast(monthly.net_pay_usd as decimal(18, 2)) as net_pay_usd,
        cast(round(monthly.gross_pay_usd / monthly.employees_paid, 2) as decimal(18, 2)) as average_gross_pay_usd
    from monthly
    left join organizations
        on monthly.organization_id = organizations.organization_id

)

select * from final
