with source as (

    select * from {{ source('shopify', 'customers') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as customer_id,
        cast(last_order_id as bigint) as last_order_id,
        -- attributes
        email,
        first_name,
        last_name,
        phone,
        lower(state) as customer_state,
        accepts_marketing as is_accepts_marketing,
        verified_email as is_verified_email,
        tax_exempt as is_tax_exempt,
        tags,
        default_address.address1 as address_line,
        default_address.city,
        default_address.zip,
        upper(default_address.country_code) as country_code,
        -- amounts
        cast(orders_count as bigint) as orders_count,
        cast(total_spent as decimal(12, 2)) as total_spent_amount,
        upper(currency) as currency_code,
        -- dates
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
