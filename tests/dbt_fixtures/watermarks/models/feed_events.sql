{{ config(unique_key='event_id') }}

{#- A union of both feeds, like slv_product_events: each feed's rows are told apart by `source_system`. -#}

with feed_a as (

    select * from {{ source('feeds', 'feed_a') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'a'}) }}

),

feed_b as (

    select * from {{ source('feeds', 'feed_b') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'b'}) }}

),

unioned as (

    select concat('a:', record_id) as event_id, 'a' as source_system, label, _loaded_at from feed_a
    union all
    select concat('b:', record_id) as event_id, 'b' as source_system, label, _loaded_at from feed_b

)

{{ latest_version('unioned', 'event_id', order_by=['_loaded_at desc']) }}
