with source as (

    select * from {{ source('shopify', 'orders') }}

),

renamed as (

    select
        -- keys
        cast(id as bigint) as order_id,
        cast(order_number as bigint) as order_number,
        cast(customer.id as bigint) as customer_id,
        -- attributes
        email,
        lower(financial_status) as financial_status,
        lower(fulfillment_status) as fulfillment_status,
        lower(source_name) as source_name,
        landing_site,
        cancel_reason,
        test as is_test,
        tags,
        shipping_address.city as shipping_city,
        upper(shipping_address.country_code) as shipping_country_code,
        shipping_address.address1 as shipping_address_line,
        shipping_address.zip as shipping_zip,
        from_json(
            coalesce(to_json(line_items), get_json_object(_rescued_data, '$.line_items')),
            concat(
                'array<struct<id: bigint, product_id: bigint, variant_id: bigint, sku: string, ',
                'title: string, quantity: int, price: string>>'
            )
        ) as line_items,
        from_json(
            coalesce(to_json(refunds), get_json_object(_rescued_data, '$.refunds')),
            concat(
                'array<struct<id: bigint, created_at: timestamp, note: string, restock: boolean, ',
                'transactions: array<struct<kind: string, status: string, amount: string, currency: string>>>>'
            )
        ) as refunds,
        -- amounts
        upper(currency) as currency_code,
        cast(subtotal_price as decimal(12, 2)) as subtotal_amount,
        cast(total_line_items_price as decimal(12, 2)) as line_items_amount,
        cast(total_discounts as decimal(12, 2)) as discount_amount,
        cast(total_shipping_price_set.shop_money.amount as decimal(12, 2)) as shipping_amount,
        cast(total_tax as decimal(12, 2)) as tax_amount,
        cast(total_price as decimal(12, 2)) as total_amount,
        -- dates
        cast(created_at as timestamp) as created_at,
        cast(processed_at as timestamp) as processed_at,
        cast(cancelled_at as timestamp) as cancelled_at,
        cast(closed_at as timestamp) as closed_at,
        cast(updated_at as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
