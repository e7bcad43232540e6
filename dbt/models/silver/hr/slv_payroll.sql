{{ config(unique_key='payroll_id') }}

{#- Monthly payroll per employee (restricted: pay amounts are masked unless built with `unmask_pii`). -#}

with payroll as (

    select * from {{ ref('stg_oracle__payroll_records') }}
    {{ loaded_since_last_build() }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

deduplicated as (

    {{ latest_version('payroll', 'payroll_id', order_by=['created_at desc', '_loaded_at desc']) }}

),

latest as (

    select
        -- keys
        deduplicated.payroll_id,
        deduplicated.employee_id,
        -- amounts
        deduplicated.currency_code,
        deduplicated.gross_pay,
        deduplicated.tax_withheld,
        deduplicated.benefits_deduction,
        deduplicated.net_pay,
        {{ to_usd('deduplicated.gross_pay', 'deduplicated.currency_code') }} as gross_pay_usd,
        {{ to_usd('deduplicated.tax_withheld', 'deduplicated.currency_code') }} as tax_withheld_usd,
        {{ to_usd('deduplicated.benefits_deduction', 'deduplicated.currency_code') }} as benefits_deduction_usd,
        {{ to_usd('deduplicated.net_pay', 'deduplicated.currency_code') }} as net_pay_usd,
        -- dates
        deduplicated.pay_period_start_date,
        deduplicated.pay_period_end_date,
        deduplicated.pay_date,
        deduplicated.created_at,
        deduplicated.created_at as updated_at,
        -- audit
        deduplicated._loaded_at
    from deduplicated
    {{ join_exchange_rate('deduplicated.currency_code', 'deduplicated.pay_date') }}

),

final as (

    select
        {{ select_masked('latest') }}
    from latest
    {{ exclude_older_than_current('latest', 'payroll_id') }}

)

select * from final
