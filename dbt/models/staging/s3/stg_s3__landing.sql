with source as (

    select * from {{ source('s3', 'landing') }}

),

renamed as (

    select
        -- keys
        shipment_id,
        cast(replace(order_number, '#', '') as bigint) as order_number,
        upper(warehouse_code) as warehouse_code,
        -- attributes
        carrier,
        tracking_number,
        upper(ship_country) as ship_country_code,
        -- amounts
        cast(package_count as int) as package_count,
        cast(weight_kg as decimal(10, 3)) as weight_kg,
        -- dates
        cast(shipped_at as timestamp) as shipped_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
