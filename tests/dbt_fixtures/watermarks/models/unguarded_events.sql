{{ config(unique_key='event_id', enabled=var('include_unguarded')) }}

{#- Reads both feeds with the model-wide watermark: must not compile (loaded_since_last_build's guard). -#}

with feed_a as (

    select * from {{ source('feeds', 'feed_a') }}
    {{ loaded_since_last_build() }}

),

feed_b as (

    select * from {{ source('feeds', 'feed_b') }}
    {{ loaded_since_last_build() }}

)

select concat('a:', record_id) as event_id, _loaded_at from feed_a
union all
select concat('b:', record_id) as event_id, _loaded_at from feed_b
