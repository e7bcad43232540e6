{{ config(unique_key='event_id') }}

{#-
    Product analytics events from the web (Mixpanel) and the apps (Amplitude) in one shape: the funnel
    steps product_viewed, added_to_cart, signed_up and order_completed. Each tool delivers an event more
    than once (retries, re-exports); the latest load of an event id wins.
-#}

with mixpanel_events as (

    select * from {{ ref('stg_mixpanel__events') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'mixpanel'}) }}

),

amplitude_events as (

    select * from {{ ref('stg_amplitude__events') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'amplitude'}) }}

),

unioned as (

    select
        concat('mixpanel:', insert_id) as event_id,
        'mixpanel' as source_system,
        'web' as platform,
        case event_name
            when 'Product Viewed' then 'product_viewed'
            when 'Added to Cart' then 'added_to_cart'
            when 'Signed Up' then 'signed_up'
            when 'Order Completed' then 'order_completed'
        end as event_name,
        user_id as app_user_id,
        device_id,
        -- Mixpanel's export has no session id: a visit is the device's day on the site
        concat('web:', device_id, ':', cast(to_date(event_at) as string)) as visit_id,
        sku,
        order_number,
        revenue_usd,
        event_at,
        _loaded_at
    from mixpanel_events
    where insert_id is not null

    union all

    select
        concat('amplitude:', event_uuid) as event_id,
        'amplitude' as source_system,
        platform,
        case event_type
            when 'view_item' then 'product_viewed'
            when 'add_to_cart' then 'added_to_cart'
            when 'sign_up' then 'signed_up'
            when 'purchase' then 'order_completed'
        end as event_name,
        user_id as app_user_id,
        device_id,
        concat('app:', device_id, ':', cast(session_id as string)) as visit_id,
        sku,
        order_number,
        revenue_usd,
        event_at,
        _loaded_at
    from amplitude_events
    where event_uuid is not null

),

latest as (

    {{ latest_version(
        'unioned', 'event_id',
        order_by=['_loaded_at desc'],
        where='event_name is not null and event_at is not null',
    ) }}

),

final as (

    select
        -- keys
        event_id,
        visit_id,
        app_user_id,
        device_id,
        order_number,
        -- attributes
        source_system,
        platform,
        event_name,
        sku,
        -- amounts
        revenue_usd,
        -- dates
        to_date(event_at) as event_date,
        event_at,
        -- audit
        _loaded_at
    from latest

)

select * from final
