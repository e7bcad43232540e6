with source as (

    select * from {{ source('sap', 'material_master') }}

),

renamed as (

    select
        -- keys
        upper(Product) as sku,
        -- attributes
        ProductType as product_type,
        ProductGroup as product_group,
        try_element_at(to_Description.results, 1).ProductDescription as product_description,
        CrossPlantStatus as cross_plant_status,
        IsMarkedForDeletion as is_marked_for_deletion,
        BaseUnit as base_unit,
        -- amounts
        cast(GrossWeight as decimal(10, 3)) as gross_weight_kg,
        -- dates
        to_date(
            timestamp_millis(cast(regexp_extract(CreationDate, '/Date[(](-?[0-9]+)', 1) as bigint))
        ) as created_date,
        timestamp_millis(cast(regexp_extract(LastChangeDateTime, '/Date[(](-?[0-9]+)', 1) as bigint)) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
