-- broken: naming-and-folder (no fct_/dim_ prefix), undocumented-model
{{ config(contract={'enforced': true}) }}
select
    order_id,
    order_amount
from {{ ref('stg_shop__orders') }}
