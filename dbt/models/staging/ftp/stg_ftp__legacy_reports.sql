with source as (

    select * from {{ source('ftp', 'legacy_reports') }}

),

renamed as (

    select
        -- keys
        to_date(REPORT_DATE, 'MM/dd/yyyy') as report_date,
        upper(REGION) as region,
        lower(CHANNEL) as sales_channel,
        -- amounts
        cast(ORDER_COUNT as bigint) as order_count,
        cast(GROSS_SALES_USD as decimal(14, 2)) as gross_sales_usd,
        cast(REFUNDS_USD as decimal(14, 2)) as refunds_usd,
        cast(NET_SALES_USD as decimal(14, 2)) as net_sales_usd,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
