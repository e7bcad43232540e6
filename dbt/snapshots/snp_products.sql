{% snapshot snp_products %}

{{
    config(
        target_schema='snapshots',
        unique_key='product_id',
        strategy='timestamp',
        updated_at='updated_at',
        hard_deletes='invalidate',
    )
}}

select * from {{ ref('slv_products') }}

{% endsnapshot %}
