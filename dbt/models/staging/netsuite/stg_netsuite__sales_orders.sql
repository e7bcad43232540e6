with source as (

    select * from {{ source('netsuite', 'sales_orders') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as sales_order_id,
        tranId as transaction_code,
        cast(replace(otherRefNum, '#', '') as bigint) as order_number,
        cast(entity.id as bigint) as customer_id,
        -- attributes
        status.id as order_status,
        location.refName as location_name,
        transform(
            item.items,
            order_item -> named_struct(
                'line', cast(order_item.line as int),
                'sku', upper(order_item.item.refName),
                'quantity', cast(order_item.quantity as int),
                'rate', cast(order_item.rate as decimal(12, 2)),
                'amount', cast(order_item.amount as decimal(12, 2))
            )
        ) as items,
        -- amounts
        upper(currency.refName) as currency_code,
        cast(exchangeRate as decimal(18, 6)) as exchange_rate,
        cast(subtotal as decimal(12, 2)) as subtotal_amount,
        cast(discountTotal as decimal(12, 2)) as discount_amount,
        cast(shippingCost as decimal(12, 2)) as shipping_amount,
        cast(total as decimal(12, 2)) as total_amount,
        -- dates
        cast(tranDate as date) as transaction_date,
        cast(createdDate as timestamp) as created_at,
        cast(lastModifiedDate as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
