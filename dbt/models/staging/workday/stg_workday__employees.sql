with source as (

    select * from {{ source('workday', 'employees') }}

),

renamed as (

    select
        -- keys
        id as worker_id,
        cast(workerId as bigint) as employee_id,
        primaryJob.position.id as position_id,
        primaryJob.supervisoryOrganization.id as organization_id,
        manager.id as manager_worker_id,
        -- attributes
        descriptor as worker_name,
        primaryWorkEmail as work_email,
        businessTitle as business_title,
        primaryJob.jobProfile.descriptor as job_profile,
        primaryJob.supervisoryOrganization.descriptor as organization_name,
        primaryJob.location.descriptor as location_name,
        workerType.descriptor as worker_type,
        isManager as is_manager,
        -- dates
        cast(hireDate as date) as hire_date,
        cast(terminationDate as date) as termination_date,
        cast(lastUpdated as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
