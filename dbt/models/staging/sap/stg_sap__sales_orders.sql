with source as (

    select * from {{ source('sap', 'sales_orders') }}

),

renamed as (

    select
        -- keys
        SalesOrder as sales_order_id,
        cast(replace(PurchaseOrderByCustomer, '#', '') as bigint) as order_number,
        SoldToParty as sold_to_party_id,
        -- attributes
        SalesOrderType as sales_order_type,
        SalesOrganization as sales_organization,
        DistributionChannel as distribution_channel,
        CreatedByUser as created_by_user,
        OverallSDProcessStatus as process_status,
        OverallTotalDeliveryStatus as delivery_status,
        OverallSDDocumentRejectionSts as rejection_status,
        transform(
            to_Item.results,
            sales_item -> named_struct(
                'sales_order_item', sales_item.SalesOrderItem,
                'sku', upper(sales_item.Material),
                'quantity', cast(sales_item.RequestedQuantity as int),
                'net_amount', cast(sales_item.NetAmount as decimal(12, 2))
            )
        ) as items,
        -- amounts
        cast(TotalNetAmount as decimal(12, 2)) as total_net_amount,
        upper(TransactionCurrency) as currency_code,
        -- dates
        to_date(
            timestamp_millis(cast(regexp_extract(SalesOrderDate, '/Date[(](-?[0-9]+)', 1) as bigint))
        ) as sales_order_date,
        timestamp_millis(cast(regexp_extract(LastChangeDateTime, '/Date[(](-?[0-9]+)', 1) as bigint)) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
