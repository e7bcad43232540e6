with source as (

    select * from {{ source('mixpanel', 'funnels') }}

),

renamed as (

    select
        -- keys
        cast(funnel_id as bigint) as funnel_id,
        cast(date as date) as funnel_date,
        -- attributes
        name as funnel_name,
        steps,
        -- amounts
        cast(analysis.steps as int) as step_count,
        cast(analysis.starting_amount as bigint) as starting_count,
        cast(analysis.completion as bigint) as completion_count,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
