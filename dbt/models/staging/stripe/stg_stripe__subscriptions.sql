with source as (

    select * from {{ source('stripe', 'subscriptions') }}

),

renamed as (

    select
        -- keys
        id as subscription_id,
        customer as customer_id,
        try_element_at(items.data, 1).price.id as price_id,
        try_element_at(items.data, 1).price.product as stripe_product_id,
        latest_invoice as latest_invoice_id,
        metadata.salesforce_opportunity_id,
        -- attributes
        lower(status) as subscription_status,
        lower(try_element_at(items.data, 1).price.recurring.interval) as billing_interval,
        collection_method,
        cancel_at_period_end as is_cancel_at_period_end,
        -- amounts
        cast(quantity as int) as quantity,
        cast(try_element_at(items.data, 1).price.unit_amount / 100 as decimal(18, 2)) as unit_amount,
        upper(currency) as currency_code,
        -- dates
        timestamp_seconds(current_period_start) as current_period_start_at,
        timestamp_seconds(current_period_end) as current_period_end_at,
        timestamp_seconds(cancel_at) as cancel_at,
        timestamp_seconds(canceled_at) as canceled_at,
        timestamp_seconds(ended_at) as ended_at,
        timestamp_seconds(start_date) as started_at,
        timestamp_seconds(created) as created_at,
        timestamp_seconds(updated) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
