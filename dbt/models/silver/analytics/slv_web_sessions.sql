{{ config(unique_key='session_id') }}

{#- Web and app sessions (MongoDB), latest version of each, with paid traffic attributed to its campaign. -#}

with sessions as (

    select * from {{ ref('stg_mongodb__user_sessions') }}
    {{ loaded_since_last_build() }}

),

deduplicated as (

    {{ latest_version('sessions', 'session_id', order_by=['ended_at desc nulls last', '_loaded_at desc']) }}

),

latest as (

    select
        session_id,
        user_id as app_user_id,
        order_number,
        device_id,
        platform,
        utm_source,
        utm_medium,
        utm_campaign,
        country_code,
        city,
        is_cart_added,
        size(page_views) as page_view_count,
        duration_seconds,
        started_at,
        ended_at,
        coalesce(ended_at, started_at) as updated_at,
        _loaded_at
    from deduplicated

),

final as (

    select
        -- keys
        session_id,
        app_user_id,
        order_number,
        device_id,
        -- attributes
        platform,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_medium in ('cpc', 'paid_social') as is_paid_traffic,
        country_code,
        city,
        is_cart_added,
        order_number is not null as has_order,
        -- amounts
        page_view_count,
        duration_seconds,
        -- dates
        to_date(started_at) as session_date,
        started_at,
        ended_at,
        updated_at,
        -- audit
        _loaded_at
    from latest
    {{ exclude_older_than_current('latest', 'session_id') }}

)

select * from final
