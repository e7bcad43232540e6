with source as (

    select * from {{ source('snowflake', 'financial_transactions') }}

),

renamed as (

    select
        -- keys
        TXN_ID as transaction_id,
        cast(LINE_NUM as bigint) as line_number,
        ACCOUNT_NUMBER as account_number,
        -- attributes
        TXN_TYPE as transaction_type,
        DOC_NUMBER as document_number,
        ACCOUNT_NAME as account_name,
        POSTING_TYPE as posting_type,
        CUSTOMER_REF as customer_name,
        MEMO as memo,
        -- amounts
        cast(AMOUNT as decimal(18, 2)) as amount,
        upper(CURRENCY_CODE) as currency_code,
        cast(EXCHANGE_RATE as decimal(18, 6)) as exchange_rate,
        cast(HOME_AMOUNT as decimal(18, 2)) as home_amount_usd,
        -- dates
        cast(TXN_DATE as date) as transaction_date,
        cast(CREATED_AT as timestamp) as created_at,
        cast(UPDATED_AT as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
