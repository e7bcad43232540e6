with source as (

    select * from {{ source('salesforce', 'opportunities') }}

),

renamed as (

    select
        -- keys
        Id as opportunity_id,
        OwnerId as owner_user_id,
        AccountId as account_id,
        -- attributes
        Name as opportunity_name,
        StageName as stage_name,
        Type as opportunity_type,
        LeadSource as lead_source,
        ForecastCategoryName as forecast_category,
        IsClosed as is_closed,
        IsWon as is_won,
        IsDeleted as is_deleted,
        -- amounts
        cast(Amount as decimal(18, 2)) as amount,
        cast(Probability as double) as probability_pct,
        cast(Seats__c as int) as seats,
        upper(CurrencyIsoCode) as currency_code,
        -- dates
        cast(CloseDate as date) as close_date,
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
