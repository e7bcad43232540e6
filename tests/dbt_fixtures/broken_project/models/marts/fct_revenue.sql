-- broken: naming-and-folder (not in a domain folder), contract-not-enforced, undocumented-column
select
    order_id,
    order_amount
from {{ ref('stg_shop__orders') }}
