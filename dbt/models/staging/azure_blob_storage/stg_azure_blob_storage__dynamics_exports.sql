with source as (

    select * from {{ source('azure_blob_storage', 'dynamics_exports') }}

),

renamed as (

    select
        -- keys
        PurchaseOrderNumber as purchase_order_number,
        cast(LineNumber as int) as line_number,
        upper(VendorAccountNumber) as vendor_id,
        upper(ItemNumber) as sku,
        upper(ReceivingWarehouseId) as warehouse_code,
        -- attributes
        VendorName as vendor_name,
        lower(PurchaseOrderStatus) as purchase_order_status,
        -- amounts
        cast(OrderedQuantity as bigint) as ordered_quantity,
        cast(PurchasePrice as decimal(12, 2)) as purchase_price,
        upper(CurrencyCode) as currency_code,
        -- dates
        cast(RequestedDeliveryDate as date) as requested_delivery_date,
        cast(ModifiedDateTime as timestamp) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
