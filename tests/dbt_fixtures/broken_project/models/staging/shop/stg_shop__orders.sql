select
    cast(order_id as bigint) as order_id,
    cast(amount as decimal(18, 2)) as order_amount
from {{ source('shop', 'orders') }}
