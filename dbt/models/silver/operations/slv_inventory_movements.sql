{{ config(unique_key='movement_id') }}

{#- Stock movements from the ERP (SQL Server), latest version of each. -#}

with movements as (

    select * from {{ ref('stg_sqlserver__inventory_movements') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('movements', 'movement_id') }}

),

final as (

    select
        -- keys
        movement_id,
        sku,
        warehouse_code,
        reference_number,
        -- attributes
        lower(movement_type) as movement_type,
        created_by,
        -- amounts
        quantity,
        on_hand_after,
        unit_cost_usd,
        extended_cost_usd,
        -- dates
        to_date(moved_at) as movement_date,
        moved_at,
        updated_at,
        -- audit
        _loaded_at
    from latest
    {{ exclude_older_than_current('latest', 'movement_id') }}

)

select * from final
