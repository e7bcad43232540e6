with source as (

    select * from {{ source('mysql', 'order_history') }}

),

renamed as (

    select
        -- keys
        cast(order_id as bigint) as order_number,
        cast(cust_id as bigint) as legacy_customer_id,
        -- attributes
        upper(order_status) as order_status,
        upper(ship_country) as ship_country_code,
        -- amounts
        upper(currency_code) as currency_code,
        cast(order_total as decimal(12, 2)) as order_total,
        cast(item_count as int) as item_count,
        -- dates
        cast(order_date as timestamp) as ordered_at,
        cast(last_modified as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
