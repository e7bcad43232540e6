with source as (

    select * from {{ source('workday', 'organizations') }}

),

renamed as (

    select
        -- keys
        id as organization_id,
        referenceId as organization_code,
        superiorOrganization.id as superior_organization_id,
        manager.id as manager_worker_id,
        -- attributes
        descriptor as organization_name,
        organizationType.descriptor as organization_type,
        staffingModel as staffing_model,
        isActive as is_active,
        -- dates
        cast(lastUpdated as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
