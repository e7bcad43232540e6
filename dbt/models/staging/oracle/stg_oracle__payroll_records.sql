with source as (

    select * from {{ source('oracle', 'payroll_records') }}

),

renamed as (

    select
        -- keys
        cast(PAYROLL_ID as bigint) as payroll_id,
        cast(EMPLOYEE_ID as bigint) as employee_id,
        -- amounts
        upper(CURRENCY_CODE) as currency_code,
        cast(GROSS_PAY as decimal(12, 2)) as gross_pay,
        cast(TAX_WITHHELD as decimal(12, 2)) as tax_withheld,
        cast(BENEFITS_DEDUCTION as decimal(12, 2)) as benefits_deduction,
        cast(NET_PAY as decimal(12, 2)) as net_pay,
        -- dates
        cast(PAY_PERIOD_START as date) as pay_period_start_date,
        cast(PAY_PERIOD_END as date) as pay_period_end_date,
        cast(PAY_DATE as date) as pay_date,
        cast(CREATED_DATE as timestamp) as created_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
