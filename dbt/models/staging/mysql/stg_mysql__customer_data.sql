with source as (

    select * from {{ source('mysql', 'customer_data') }}

),

renamed as (

    select
        -- keys
        cast(cust_id as bigint) as legacy_customer_id,
        -- attributes
        customer_name,
        email_address as email,
        phone_number as phone,
        address_city as city,
        address_country as country_name,
        upper(status) as customer_status,
        -- dates
        cast(created_date as timestamp) as created_at,
        cast(last_modified as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
