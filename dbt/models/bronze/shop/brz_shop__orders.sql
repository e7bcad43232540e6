with source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        -- keys
        cast(order_id as bigint) as order_id,
        cast(customer_id as bigint) as customer_id,
        -- attributes
        lower(status) as order_status,
        upper(currency) as currency_code,
        -- amounts
        cast(amount as decimal(18, 2)) as order_amount,
        -- dates
        cast(order_date as date) as order_date,
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id
    from source

)

select * from renamed
