{{ config(unique_key='order_id') }}

{#-
    Shop orders from Shopify, the system of record for web, app and partner orders; each order gets
    its customer from the identity map (the Shopify customer, or for a guest checkout the customer
    whose email it is). An order is rebuilt when Shopify changes it or when its customer key moves
    (a customer merge or split), so an incremental build ends where a full refresh does.
-#}

with shopify_orders as (

    select * from {{ ref('stg_shopify__orders') }}

),

identity_map as (

    select * from {{ ref('slv_customer_identity_map') }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

customer_by_email as (

    select
        email_hash,
        min(customer_key) as customer_key
    from identity_map
    where email_hash is not null
    group by email_hash

),

{% if is_incremental() %}
    changed_orders as (

        select shopify_orders.order_id
        from shopify_orders
        {{ loaded_since_last_build('shopify_orders') }}

        union

        -- orders whose customer key moves: the identity map merged or split their customer since the
        -- last build (worked out from the rows held, without reading the orders' history)
        select current_rows.order_id
        from {{ this }} as current_rows
        left join identity_map as by_account
            on
                by_account.source_system = 'shopify.customers'
                and by_account.source_record_id = cast(current_rows.shopify_customer_id as string)
        left join customer_by_email as by_email
            on current_rows.customer_email = by_email.email_hash
        where not (coalesce(by_account.customer_key, by_email.customer_key) <=> current_rows.customer_key)

    ),

    orders_to_build as (

        -- every version of the changed orders: the latest one is picked below
        select shopify_orders.*
        from shopify_orders
        left semi join changed_orders
            on shopify_orders.order_id = changed_orders.order_id

    ),

{% else %}
    orders_to_build as (

        select * from shopify_orders

    ),

{% endif %}
deduplicated as (

    {{ latest_version('orders_to_build', 'order_id') }}

),

latest as (

    select
        order_id,
        order_number,
        customer_id as shopify_customer_id,
        email,
        {{ mask_pii('email', 'email') }} as email_hash,
        financial_status,
        fulfillment_status,
        source_name,
        landing_site,
        cancel_reason,
        shipping_city,
        shipping_country_code,
        currency_code,
        line_items_amount,
        discount_amount,
        shipping_amount,
        tax_amount,
        total_amount,
        created_at,
        cancelled_at,
        closed_at,
        updated_at,
        _loaded_at,
        coalesce(_op = 'delete', false) as is_deleted
    from deduplicated

),

resolved as (

    select
        latest.*,
        coalesce(by_account.customer_key, by_email.customer_key) as customer_key
    from latest
    left join identity_map as by_account
        on
            by_account.source_system = 'shopify.customers'
            and by_account.source_record_id = cast(latest.shopify_customer_id as string)
    left join customer_by_email as by_email
        on latest.email_hash = by_email.email_hash

),

joined as (

    select
        -- keys
        resolved.order_id,
        resolved.order_number,
        resolved.customer_key,
        resolved.shopify_customer_id,
        -- attributes
        resolved.email as customer_email,
        case
            when resolved.cancelled_at is not null then 'cancelled'
            when resolved.financial_status = 'refunded' then 'refunded'
            when resolved.financial_status = 'partially_refunded' then 'partially_refunded'
            when resolved.fulfillment_status = 'fulfilled' then 'fulfilled'
            else 'open'
        end as order_status,
        resolved.financial_status,
        case resolved.source_name
            when 'web' then 'web'
            when 'iphone' then 'mobile'
            else 'partner'
        end as sales_channel,
        regexp_extract(resolved.landing_site, 'utm_source=([^&]+)', 1) as utm_source,
        resolved.shipping_city,
        resolved.shipping_country_code,
        resolved.cancelled_at is not null as is_cancelled,
        resolved.shopify_customer_id is null as is_guest_checkout,
        resolved.is_deleted,
        -- amounts
        resolved.currency_code,
        resolved.line_items_amount,
        resolved.discount_amount,
        resolved.shipping_amount,
        resolved.tax_amount,
        resolved.total_amount as order_amount,
        {{ to_usd('resolved.total_amount', 'resolved.currency_code') }} as order_amount_usd,
        -- dates
        to_date(resolved.created_at) as order_date,
        resolved.created_at as ordered_at,
        resolved.cancelled_at,
        resolved.closed_at,
        resolved.updated_at,
        -- audit
        resolved._loaded_at
    from resolved
    {{ join_exchange_rate('resolved.currency_code', 'to_date(resolved.created_at)') }}

),

final as (

    select
        {{ select_masked('joined') }}
    from joined

)

select * from final
