-- Events relative to now (a seed cannot be): `live` is recent, `stale` ten days old, `future` in five days.
with events as (

    select
        event_id,
        source,
        timestampadd(hour, -hours_ago, current_timestamp()) as event_at
    from values
        (1, 'live', 0),
        (2, 'live', 3),
        (3, 'stale', 240),
        (4, 'stale', 288),
        (5, 'future', -120)
        as t(event_id, source, hours_ago)

)

select
    event_id,
    source,
    event_at,
    cast(event_at as date) as event_date
from events
