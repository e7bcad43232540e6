{{ config(unique_key=['product_id', 'warehouse_code']) }}

{#- Current stock per product and warehouse, from the app database (latest version of each pair). -#}

with inventory as (

    select * from {{ ref('stg_postgres__product_inventory') }}
    {{ loaded_since_last_build() }}

),

warehouses as (

    select * from {{ ref('warehouses') }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

latest as (

    {{ latest_version('inventory', ['product_id', 'warehouse_code']) }}

),

final as (

    select
        -- keys
        latest.product_id,
        latest.warehouse_code,
        latest.sku,
        warehouses.entity_code,
        -- attributes
        latest.quantity_on_hand - latest.quantity_reserved <= latest.reorder_point as is_below_reorder_point,
        coalesce(latest._op = 'delete', false) as is_deleted,
        -- amounts
        latest.quantity_on_hand,
        latest.quantity_reserved,
        latest.quantity_on_hand - latest.quantity_reserved as quantity_available,
        latest.reorder_point,
        warehouses.entity_currency_code,
        exchange_rates.usd_per_unit as entity_usd_per_unit,
        -- dates
        latest.updated_at,
        -- audit
        latest._loaded_at
    from latest
    left join warehouses
        on latest.warehouse_code = warehouses.warehouse_code
    {{ join_exchange_rate('warehouses.entity_currency_code', 'to_date(latest.updated_at)') }}
    {{ exclude_older_than_current('latest', ['product_id', 'warehouse_code']) }}

)

select * from final
