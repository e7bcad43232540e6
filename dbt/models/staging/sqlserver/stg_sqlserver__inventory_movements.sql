with source as (

    select * from {{ source('sqlserver', 'inventory_movements') }}

),

renamed as (

    select
        -- keys
        cast(MovementID as bigint) as movement_id,
        upper(ItemNumber) as sku,
        upper(WarehouseCode) as warehouse_code,
        -- attributes
        upper(MovementType) as movement_type,
        ReferenceNumber as reference_number,
        CreatedBy as created_by,
        -- amounts
        cast(Quantity as int) as quantity,
        cast(UnitCost as decimal(19, 4)) as unit_cost_usd,
        cast(ExtendedCost as decimal(19, 4)) as extended_cost_usd,
        cast(OnHandAfter as int) as on_hand_after,
        -- dates
        cast(MovementDate as timestamp) as moved_at,
        cast(ModifiedDate as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
