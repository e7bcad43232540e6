with source as (

    select * from {{ source('sftp', 'vendor_data') }}

),

renamed as (

    select
        -- keys
        upper(vendor_id) as vendor_id,
        vendor_sku,
        upper(sku) as sku,
        -- attributes
        vendor_name,
        -- amounts
        cast(unit_cost as decimal(12, 2)) as unit_cost,
        upper(currency) as currency_code,
        cast(qty_available as bigint) as quantity_available,
        cast(lead_time_days as int) as lead_time_days,
        -- dates
        cast(as_of_date as date) as as_of_date,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
