{{ config(unique_key='customer_id') }}

{#- One row per customer, its latest version. -#}

with customers as (

    select * from {{ source('fx_crm', 'customers') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('customers', 'customer_id', order_by=['_loaded_at desc']) }}

),

final as (

    select
        -- keys
        customer_id,
        -- attributes
        name,
        -- audit
        _loaded_at
    from latest

)

select * from final
