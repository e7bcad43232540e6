{{ config(unique_key='record_id') }}

{#-
    A join of both feeds on the record, like slv_opportunities: a record is rebuilt when either feed
    changes it, and each feed's load time of the version joined is a column, that feed's watermark.
-#}

with feed_a as (

    select * from {{ source('feeds', 'feed_a') }}

),

feed_b as (

    select * from {{ source('feeds', 'feed_b') }}

),

changed as (

    select feed_a.record_id from feed_a
    {{ loaded_since_last_build('feed_a', watermark_column='_a_loaded_at') }}
    union
    select feed_b.record_id from feed_b
    {{ loaded_since_last_build('feed_b', watermark_column='_b_loaded_at') }}

),

a_latest as (

    {{ latest_version('feed_a', 'record_id', order_by=['_loaded_at desc'],
                      where='record_id in (select record_id from changed)') }}

),

b_latest as (

    {{ latest_version('feed_b', 'record_id', order_by=['_loaded_at desc'],
                      where='record_id in (select record_id from changed)') }}

)

select
    a_latest.record_id,
    a_latest.label as a_label,
    b_latest.label as b_label,
    greatest(a_latest._loaded_at, coalesce(b_latest._loaded_at, a_latest._loaded_at)) as _loaded_at,
    a_latest._loaded_at as _a_loaded_at,
    b_latest._loaded_at as _b_loaded_at
from a_latest
left join b_latest
    on a_latest.record_id = b_latest.record_id
