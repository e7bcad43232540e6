with source as (

    select * from {{ source('workday', 'positions') }}

),

renamed as (

    select
        -- keys
        id as position_id,
        positionId as position_code,
        supervisoryOrganization.id as organization_id,
        worker.id as worker_id,
        -- attributes
        jobProfile.descriptor as position_title,
        isFilled as is_filled,
        availableForHire as is_available_for_hire,
        -- dates
        cast(createdOn as timestamp) as created_at,
        cast(lastUpdated as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
