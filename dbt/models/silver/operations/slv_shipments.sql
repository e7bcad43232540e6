{{ config(unique_key='shipment_id') }}

{#- Shipment confirmations from the fulfilment partner's S3 drops; a re-sent file replaces the shipment. -#}

with shipments as (

    select * from {{ ref('stg_s3__landing') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('shipments', 'shipment_id', order_by=['shipped_at desc', '_loaded_at desc']) }}

),

final as (

    select
        -- keys
        shipment_id,
        order_number,
        warehouse_code,
        -- attributes
        carrier,
        tracking_number,
        ship_country_code,
        -- amounts
        package_count,
        weight_kg,
        -- dates
        to_date(shipped_at) as ship_date,
        shipped_at,
        -- audit
        _loaded_at
    from latest

)

select * from final
