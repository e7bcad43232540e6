with source as (

    select * from {{ source('sqlserver', 'financial_reports') }}

),

renamed as (

    select
        -- keys
        cast(ReportDate as date) as report_date,
        CompanyCode as company_code,
        AccountNumber as account_number,
        -- attributes
        AccountName as account_name,
        AccountType as account_type,
        -- amounts
        upper(CurrencyCode) as currency_code,
        cast(DebitAmount as decimal(19, 4)) as debit_amount,
        cast(CreditAmount as decimal(19, 4)) as credit_amount,
        cast(NetAmount as decimal(19, 4)) as net_amount,
        cast(NetAmountUSD as decimal(19, 4)) as net_amount_usd,
        -- dates
        cast(GeneratedAt as timestamp) as generated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
