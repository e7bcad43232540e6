with source as (

    select * from {{ source('oracle', 'employee_data') }}

),

renamed as (

    select
        -- keys
        cast(EMPLOYEE_ID as bigint) as employee_id,
        cast(MANAGER_ID as bigint) as manager_employee_id,
        cast(DEPARTMENT_ID as bigint) as department_id,
        -- attributes
        FIRST_NAME as first_name,
        LAST_NAME as last_name,
        EMAIL as email,
        PHONE_NUMBER as phone,
        upper(JOB_ID) as job_id,
        upper(STATUS) as employee_status,
        -- amounts
        cast(SALARY as decimal(10, 2)) as monthly_salary_usd,
        cast(COMMISSION_PCT as decimal(4, 2)) as commission_pct,
        -- dates
        cast(HIRE_DATE as date) as hire_date,
        cast(TERMINATION_DATE as date) as termination_date,
        cast(LAST_UPDATE_DATE as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
