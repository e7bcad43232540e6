{{ config(unique_key='payroll_id') }}

{#- Monthly payroll per employee (restricted: pay amounts are masked unless built with `unmask_pii`). -#}

with payroll as (

    select * from {{ ref('stg_oracle__payroll_records') }}
    {{ loaded_since_last_build() }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by payroll_id
            order by created_at desc, _loaded_at desc
        ) as version_rank
    from payroll

),

latest as (

    select
        -- keys
        payroll_id,
        employee_id,
        -- amounts
        currency_code,
        gross_pay,
        tax_withheld,
        benefits_deduction,
        net_pay,
        -- dates
        pay_period_start_date,
        pay_period_end_date,
        pay_date,
        created_at,
        created_at as updated_at,
        -- audit
        _loaded_at
    from ranked
    where version_rank = 1

),

final as (

    select
        {{ select_masked('latest') }}
    from latest
    {{ exclude_older_than_current('latest', 'payroll_id') }}

)

select * from final
