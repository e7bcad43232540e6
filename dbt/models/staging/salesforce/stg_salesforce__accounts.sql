with source as (

    select * from {{ source('salesforce', 'accounts') }}

),

renamed as (

    select
        -- keys
        Id as account_id,
        OwnerId as owner_user_id,
        -- attributes
        Name as account_name,
        IsPersonAccount as is_person_account,
        FirstName as first_name,
        LastName as last_name,
        PersonEmail as email,
        Phone as phone,
        Type as account_type,
        Industry as industry,
        cast(NumberOfEmployees as int) as employee_count,
        Website as website,
        BillingCity as billing_city,
        BillingCountry as billing_country_name,
        AccountSource as account_source,
        IsDeleted as is_deleted,
        -- dates
        cast(CreatedDate as timestamp) as created_at,
        cast(LastModifiedDate as timestamp) as last_modified_at,
        cast(SystemModstamp as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
