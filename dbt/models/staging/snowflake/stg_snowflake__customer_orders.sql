with source as (

    select * from {{ source('snowflake', 'customer_orders') }}

),

renamed as (

    select
        -- keys
        ORDER_ID as order_id,
        OPPORTUNITY_ID as opportunity_id,
        ACCOUNT_ID as account_id,
        STRIPE_SUBSCRIPTION_ID as stripe_subscription_id,
        -- attributes
        ACCOUNT_NAME as account_name,
        PRODUCT_NAME as product_name,
        STATUS as order_status,
        -- amounts
        cast(SEATS as bigint) as seats,
        cast(ANNUAL_AMOUNT as decimal(18, 2)) as annual_amount,
        upper(CURRENCY) as currency_code,
        -- dates
        cast(ORDER_DATE as date) as order_date,
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
