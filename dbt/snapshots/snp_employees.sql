{% snapshot snp_employees %}

{{
    config(
        target_schema='hr',
        unique_key='employee_id',
        strategy='timestamp',
        updated_at='updated_at',
        hard_deletes='invalidate',
    )
}}

select * from {{ ref('slv_employees') }}

{% endsnapshot %}
