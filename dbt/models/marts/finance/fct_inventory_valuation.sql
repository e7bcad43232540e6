{#-
    Inventory valuation: stock on hand per product and warehouse (app database) at the catalogue's unit
    cost, in USD and in the currency of the entity whose books carry the warehouse (EU stock in EUR at
    the reference rate silver recorded), as of each stock record's latest change.
-#}

with inventory_levels as (

    select * from {{ ref('slv_inventory_levels') }}

),

products as (

    select * from {{ ref('slv_products') }}

),

valued as (

    select
        inventory_levels.product_id,
        inventory_levels.warehouse_code,
        inventory_levels.sku,
        products.category as product_category,
        inventory_levels.entity_code,
        inventory_levels.entity_currency_code,
        inventory_levels.quantity_on_hand,
        inventory_levels.quantity_reserved,
        products.unit_cost as unit_cost_usd,
        inventory_levels.quantity_on_hand * products.unit_cost as inventory_value_usd,
        inventory_levels.entity_usd_per_unit,
        inventory_levels.updated_at
    from inventory_levels
    inner join products
        on inventory_levels.product_id = products.product_id
    where not inventory_levels.is_deleted

),

final as (

    select
        -- keys
        cast(product_id as bigint) as product_id,
        cast(warehouse_code as string) as warehouse_code,
        -- attributes
        cast(sku as string) as sku,
        cast(product_category as string) as product_category,
        cast(entity_code as string) as entity_code,
        -- quantities
        cast(quantity_on_hand as int) as quantity_on_hand,
        cast(quantity_reserved as int) as quantity_reserved,
        -- amounts
        cast(unit_cost_usd as decimal(18, 2)) as unit_cost_usd,
        cast(inventory_value_usd as decimal(18, 2)) as inventory_value_usd,
        cast(entity_currency_code as string) as entity_currency_code,
        cast(round(inventory_value_usd / entity_usd_per_unit, 2) as decimal(18, 2)) as inventory_value_entity_currency,
        -- dates
        cast(to_date(updated_at) as date) as as_of_date,
        cast(updated_at as timestamp) as updated_at
    from valued

)

select * from final
