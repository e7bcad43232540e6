with source as (

    select * from {{ source('netsuite', 'customers') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as customer_id,
        entityId as entity_code,
        -- attributes
        isPerson as is_person,
        firstName as first_name,
        lastName as last_name,
        companyName as company_name,
        email,
        phone,
        subsidiary.refName as subsidiary_name,
        upper(currency.refName) as currency_code,
        entityStatus.refName as entity_status,
        isInactive as is_inactive,
        -- dates
        cast(dateCreated as timestamp) as created_at,
        cast(lastModifiedDate as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
