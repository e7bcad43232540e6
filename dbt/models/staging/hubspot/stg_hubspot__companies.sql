with source as (

    select * from {{ source('hubspot', 'companies') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as company_id,
        -- attributes
        properties.name as company_name,
        lower(properties.domain) as company_domain,
        properties.industry,
        cast(properties.numberofemployees as int) as employee_count,
        properties.city,
        properties.country as country_name,
        archived as is_archived,
        -- dates
        cast(createdAt as timestamp) as created_at,
        cast(updatedAt as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
