{{ config(unique_key=['product_id', 'warehouse_code']) }}

{#- Current stock per product and warehouse, from the app database (latest version of each pair). -#}

with inventory as (

    select * from {{ ref('stg_postgres__product_inventory') }}
    {{ loaded_since_last_build() }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by product_id, warehouse_code
            order by updated_at desc, _loaded_at desc
        ) as version_rank
    from inventory

),

latest as (

    select * from ranked
    where version_rank = 1

),

final as (

    select
        -- keys
        product_id,
        warehouse_code,
        sku,
        -- attributes
        quantity_on_hand - quantity_reserved <= reorder_point as is_below_reorder_point,
        coalesce(_op = 'delete', false) as is_deleted,
        -- amounts
        quantity_on_hand,
        quantity_reserved,
        quantity_on_hand - quantity_reserved as quantity_available,
        reorder_point,
        -- dates
        updated_at,
        -- audit
        _loaded_at
    from latest
    {{ exclude_older_than_current('latest', ['product_id', 'warehouse_code']) }}

)

select * from final
