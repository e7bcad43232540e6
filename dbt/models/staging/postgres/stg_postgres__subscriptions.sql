with source as (

    select * from {{ source('postgres', 'subscriptions') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as subscription_id,
        cast(user_id as bigint) as user_id,
        stripe_subscription_id,
        get_json_object(metadata, '$.salesforce_opportunity_id') as salesforce_opportunity_id,
        -- attributes
        lower(plan_code) as plan_code,
        lower(status) as subscription_status,
        get_json_object(metadata, '$.source') as acquisition_channel,
        cancel_at_period_end as is_cancel_at_period_end,
        -- amounts
        cast(quantity as int) as quantity,
        cast(unit_price as decimal(10, 2)) as unit_price,
        upper(currency) as currency_code,
        -- dates
        cast(current_period_start as timestamp) as current_period_start_at,
        cast(current_period_end as timestamp) as current_period_end_at,
        cast(canceled_at as timestamp) as canceled_at,
        cast(ended_at as timestamp) as ended_at,
        cast(created_at as timestamp) as created_at,
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
