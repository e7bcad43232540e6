with source as (

    select * from {{ source('stripe', 'customers') }}

),

renamed as (

    select
        -- keys
        id as customer_id,
        cast(metadata.app_user_id as bigint) as app_user_id,
        -- attributes
        email,
        name as customer_name,
        phone,
        address.city,
        address.state as region,
        upper(address.country) as country_code,
        delinquent as is_delinquent,
        tax_exempt,
        -- amounts
        upper(currency) as currency_code,
        cast(balance / 100 as decimal(18, 2)) as balance,
        -- dates
        timestamp_seconds(created) as created_at,
        timestamp_seconds(updated) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
