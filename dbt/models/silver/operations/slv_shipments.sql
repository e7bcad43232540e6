{{ config(unique_key='shipment_id') }}

{#- Shipment confirmations from the fulfilment partner's S3 drops; a re-sent file replaces the shipment. -#}

with shipments as (

    select * from {{ ref('stg_s3__landing') }}
    {{ loaded_since_last_build() }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by shipment_id
            order by shipped_at desc, _loaded_at desc
        ) as version_rank
    from shipments

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
    from ranked
    where version_rank = 1

)

select * from final
