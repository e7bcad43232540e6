with source as (

    select * from {{ source('salesforce', 'leads') }}

),

renamed as (

    select
        -- keys
        Id as lead_id,
        OwnerId as owner_user_id,
        ConvertedAccountId as converted_account_id,
        ConvertedOpportunityId as converted_opportunity_id,
        -- attributes
        FirstName as first_name,
        LastName as last_name,
        Email as email,
        Phone as phone,
        Company as company_name,
        Title as job_title,
        Status as lead_status,
        LeadSource as lead_source,
        City as city,
        Country as country_name,
        IsConverted as is_converted,
        IsDeleted as is_deleted,
        -- dates
        cast(ConvertedDate as date) as converted_date,
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
