with source as (

    select * from {{ source('hubspot', 'deals') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as deal_id,
        properties.salesforceopportunityid as salesforce_opportunity_id,
        cast(try_element_at(associations.companies.results, 1).id as bigint) as company_id,
        -- attributes
        properties.dealname as deal_name,
        lower(properties.dealstage) as deal_stage,
        properties.pipeline,
        archived as is_archived,
        -- amounts
        cast(properties.amount as decimal(18, 2)) as amount_usd,
        cast(properties.number_of_seats as int) as seats,
        -- dates
        cast(cast(properties.closedate as timestamp) as date) as close_date,
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
