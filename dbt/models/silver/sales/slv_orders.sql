{{ config(unique_key='order_id') }}

with orders as (

    select * from {{ ref('brz_shop__orders') }} as bronze_rows
    {{ loaded_since_last_build('bronze_rows') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_id
            order by updated_at desc, _loaded_at desc
        ) as version_rank
    from orders

),

latest as (

    select * from ranked
    where version_rank = 1

),

final as (

    select
        -- keys
        order_id,
        customer_id,
        -- attributes
        order_status,
        currency_code,
        order_status = 'cancelled' as is_cancelled,
        -- amounts
        order_amount,
        -- dates
        order_date,
        updated_at,
        -- audit
        _loaded_at
    from latest
    {% if is_incremental() %}
        -- a late, older version never overwrites a newer one already in silver
        where not exists (
            select 1
            from {{ this }} as current_rows
            where
                current_rows.order_id = latest.order_id
                and current_rows.updated_at > latest.updated_at
        )
    {% endif %}

)

select * from final
