with source as (

    select * from {{ source('sftp', 'partner_reports') }}

),

renamed as (

    select
        -- keys
        upper(partner_id) as partner_id,
        cast(week_start as date) as week_start_date,
        -- attributes
        partner_name,
        -- amounts
        cast(orders as bigint) as order_count,
        cast(units as bigint) as unit_count,
        cast(gross_sales as decimal(12, 2)) as gross_sales_amount,
        cast(refunds as decimal(12, 2)) as refund_amount,
        cast(net_sales as decimal(12, 2)) as net_sales_amount,
        cast(commission_rate as decimal(6, 4)) as commission_rate,
        cast(commission as decimal(12, 2)) as commission_amount,
        upper(currency) as currency_code,
        -- dates
        cast(week_end as date) as week_end_date,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
