with source as (

    select * from {{ source('azure_blob_storage', 'powerbi_exports') }}

),

renamed as (

    select
        -- keys
        to_date(Date, 'MM/dd/yyyy') as report_date,
        `Product Category` as product_category,
        Region as region,
        -- amounts
        cast(Orders as bigint) as order_count,
        cast(`Units Sold` as bigint) as unit_count,
        cast(regexp_replace(`Revenue (USD)`, ',', '') as decimal(14, 2)) as revenue_usd,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
