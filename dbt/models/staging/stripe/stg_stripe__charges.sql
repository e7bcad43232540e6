with source as (

    select * from {{ source('stripe', 'charges') }}

),

renamed as (

    select
        -- keys
        id as charge_id,
        customer as customer_id,
        invoice as invoice_id,
        payment_intent as payment_intent_id,
        cast(metadata.order_number as bigint) as order_number,
        -- attributes
        lower(status) as charge_status,
        description as charge_description,
        failure_code,
        billing_details.email as billing_email,
        billing_details.name as billing_name,
        receipt_email,
        payment_method_details.card.brand as card_brand,
        payment_method_details.card.last4 as card_last4,
        upper(payment_method_details.card.country) as card_country_code,
        paid as is_paid,
        captured as is_captured,
        refunded as is_refunded,
        disputed as is_disputed,
        refunds.data as refunds,
        -- amounts
        upper(currency) as currency_code,
        cast(amount / 100 as decimal(18, 2)) as amount,
        cast(amount_captured / 100 as decimal(18, 2)) as amount_captured,
        cast(amount_refunded / 100 as decimal(18, 2)) as amount_refunded,
        -- dates
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
