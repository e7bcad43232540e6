{% snapshot snp_subscriptions %}

{{
    config(
        target_schema='snapshots',
        unique_key='subscription_id',
        strategy='timestamp',
        updated_at='updated_at',
        hard_deletes='invalidate',
    )
}}

select * from {{ ref('slv_subscriptions') }}

{% endsnapshot %}
