{{ config(unique_key='order_id') }}

{#-
    One row per order, its latest version. `amount` is multiplied by the var `fx_amount_factor` (the
    test's change of logic); `built_for` is the `backfill_start` of the run that wrote the row last
    ('' for a regular build), so the test sees which day's run rebuilt which rows.
-#}

with orders as (

    select * from {{ source('fx_shop', 'orders') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('orders', 'order_id', order_by=['_loaded_at desc']) }}

),

final as (

    select
        -- keys
        order_id,
        customer_id,
        -- amounts
        amount * {{ var('fx_amount_factor') }} as amount,
        -- audit
        '{{ var("backfill_start", "") }}' as built_for,
        _loaded_at
    from latest

)

select * from final
