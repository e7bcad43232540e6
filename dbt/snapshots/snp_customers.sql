{% snapshot snp_customers %}

{{
    config(
        target_schema='snapshots',
        unique_key='customer_key',
        strategy='timestamp',
        updated_at='updated_at',
        hard_deletes='invalidate',
    )
}}

select * from {{ ref('slv_customers') }}

{% endsnapshot %}
