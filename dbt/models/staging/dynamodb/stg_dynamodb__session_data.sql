with source as (

    select * from {{ source('dynamodb', 'session_data') }}

),

renamed as (

    select
        -- keys
        Item.session_id.S as session_id,
        cast(Item.user_id.S as bigint) as user_id,
        -- attributes
        Item.device_id.S as device_id,
        lower(Item.platform.S) as platform,
        transform(
            Item.cart.L,
            cart_item -> named_struct(
                'sku', cart_item.M.sku.S,
                'quantity', cast(cart_item.M.qty.N as int),
                'unit_price', cast(cart_item.M.price.N as decimal(12, 2))
            )
        ) as cart_items,
        -- dates
        timestamp_seconds(cast(Item.created_at.N as bigint)) as created_at,
        timestamp_seconds(cast(Item.expires_at.N as bigint)) as expires_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
