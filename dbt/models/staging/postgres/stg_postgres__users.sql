with source as (

    select * from {{ source('postgres', 'users') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as user_id,
        -- attributes
        email,
        first_name,
        last_name,
        phone,
        upper(country_code) as country_code,
        city,
        region,
        marketing_opt_in as is_marketing_opt_in,
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
