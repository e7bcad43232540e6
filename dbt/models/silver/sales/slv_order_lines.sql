{{ config(unique_key='order_line_id') }}

{#- The lines of each Shopify order, from the order's latest version. -#}

with shopify_orders as (

    select * from {{ ref('stg_shopify__orders') }}
    {{ loaded_since_last_build() }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

latest as (

    {{ latest_version('shopify_orders', 'order_id') }}

),

lines as (

    select
        latest.order_id,
        latest.order_number,
        latest.currency_code,
        latest.created_at,
        latest.updated_at,
        latest._loaded_at,
        posexplode(latest.line_items) as (line_index, line)
    from latest

),

typed_lines as (

    select
        lines.*,
        lines.line_index + 1 as line_number,
        cast(lines.line.price as decimal(12, 2)) as unit_price,
        cast(lines.line.quantity as int) as quantity
    from lines

),

final as (

    select
        -- keys
        typed_lines.line.id as order_line_id,
        typed_lines.order_id,
        typed_lines.order_number,
        typed_lines.line.product_id as shopify_product_id,
        typed_lines.line.variant_id as shopify_variant_id,
        upper(typed_lines.line.sku) as sku,
        -- attributes
        typed_lines.line_number,
        typed_lines.line.title as product_title,
        -- amounts
        typed_lines.quantity,
        typed_lines.currency_code,
        typed_lines.unit_price,
        cast(typed_lines.unit_price * typed_lines.quantity as decimal(14, 2)) as line_amount,
        {{ to_usd('typed_lines.unit_price * typed_lines.quantity', 'typed_lines.currency_code') }} as line_amount_usd,
        -- dates
        to_date(typed_lines.created_at) as order_date,
        typed_lines.updated_at,
        -- audit
        typed_lines._loaded_at
    from typed_lines
    {{ join_exchange_rate('typed_lines.currency_code', 'to_date(typed_lines.created_at)') }}
    {{ exclude_older_than_current('typed_lines', 'order_id') }}

)

select * from final
