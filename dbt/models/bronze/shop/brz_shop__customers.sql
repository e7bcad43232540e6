with source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select
        -- keys
        cast(customer_id as bigint) as customer_id,
        -- attributes
        email,
        full_name,
        upper(country) as country_code,
        -- dates
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id
    from source

)

select * from renamed
