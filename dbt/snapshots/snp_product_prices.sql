{% snapshot snp_product_prices %}

{{
    config(
        target_schema='snapshots',
        unique_key='product_id',
        strategy='timestamp',
        updated_at='updated_at',
        hard_deletes='invalidate',
    )
}}

{#- The price history of each product: list price and unit cost, valid from each catalogue change. -#}

select
    product_id,
    sku,
    currency_code,
    list_price,
    unit_cost,
    updated_at
from {{ ref('slv_products') }}

{% endsnapshot %}
