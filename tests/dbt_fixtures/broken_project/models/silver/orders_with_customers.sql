-- broken: source-outside-staging, direct-join-to-source, naming-and-folder (no slv_ prefix, no domain
-- folder), contract-not-enforced (public), missing-primary-key-test (unique without not_null)
select
    orders.order_id,
    customers.email
from {{ ref('stg_shop__orders') }} as orders
left join {{ source('shop', 'customers') }} as customers
    on orders.order_id = customers.order_id
