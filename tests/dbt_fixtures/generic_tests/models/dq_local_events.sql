-- Events stamped with the wall-clock time of the project's `dbt_date:time_zone` (Pacific/Kiritimati,
-- UTC+14), as a source system in that zone would write them: `recent` 2 hours ago there, which is
-- still in the future by the server's UTC clock, and `day_old` 30 hours ago there, only 16 by UTC.
{%- set local_now = "cast(convert_timezone('" ~ var("dbt_date:time_zone") ~ "', cast(current_timestamp() as timestamp_ntz)) as timestamp)" %}
select
    event_id,
    kind,
    timestampadd(hour, -hours_ago, {{ local_now }}) as event_at
from values
    (1, 'recent', 2),
    (2, 'day_old', 30)
    as t(event_id, kind, hours_ago)
