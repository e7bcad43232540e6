with source as (

    select * from {{ source('hubspot', 'contacts') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as contact_id,
        -- attributes
        properties.email,
        properties.firstname as first_name,
        properties.lastname as last_name,
        properties.phone,
        properties.city,
        properties.country as country_name,
        properties.company as company_name,
        lower(properties.lifecyclestage) as lifecycle_stage,
        cast(properties.hs_marketable_status as boolean) as is_marketable,
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
