{#-
    The product funnel per day and platform: visits (an app session, or a device's day on the website)
    that viewed a product, added to the cart and completed an order, the step conversion rates, and
    sign-ups along the way. A visit counts on the day of its first event and in every step it reached.
-#}

with events as (

    select * from {{ ref('slv_product_events') }}

),

visits as (

    select
        visit_id,
        platform,
        min(event_date) as visit_date,
        max(case when event_name = 'product_viewed' then 1 else 0 end) as has_product_view,
        max(case when event_name = 'added_to_cart' then 1 else 0 end) as has_cart_add,
        max(case when event_name = 'order_completed' then 1 else 0 end) as has_order,
        max(case when event_name = 'signed_up' then 1 else 0 end) as has_sign_up,
        count(distinct case when event_name = 'order_completed' then order_number end) as order_count,
        sum(case when event_name = 'order_completed' then revenue_usd else 0 end) as revenue_usd
    from events
    group by visit_id, platform

),

daily as (

    select
        visit_date,
        platform,
        count(*) as visits,
        sum(has_product_view) as product_view_visits,
        sum(has_cart_add) as cart_visits,
        sum(has_order) as order_visits,
        sum(has_sign_up) as sign_up_visits,
        sum(order_count) as orders,
        sum(revenue_usd) as revenue_usd
    from visits
    group by visit_date, platform

),

final as (

    select
        -- keys
        cast(visit_date as date) as visit_date,
        cast(platform as string) as platform,
        -- funnel steps
        cast(visits as bigint) as visits,
        cast(product_view_visits as bigint) as product_view_visits,
        cast(cart_visits as bigint) as cart_visits,
        cast(order_visits as bigint) as order_visits,
        cast(sign_up_visits as bigint) as sign_up_visits,
        -- conversion rates
        {{ safe_ratio('cart_visits', 'product_view_visits') }} as view_to_cart_rate,
        {{ safe_ratio('order_visits', 'cart_visits') }} as cart_to_order_rate,
        {{ safe_ratio('order_visits', 'product_view_visits') }} as view_to_order_rate,
        -- orders
        cast(orders as bigint) as orders,
        cast(revenue_usd as decimal(18, 2)) as revenue_usd
    from daily

)

select * from final
