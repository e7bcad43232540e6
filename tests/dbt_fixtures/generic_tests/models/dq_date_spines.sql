-- dbt_utils.date_spine for every datepart from 2024-01-01 00:00:00 to an end that is excluded: how many
-- periods, the first and the last; tests/integration/test_generic_tests.py checks them.
{%- set spines = [
    ("second", "2024-01-01 00:01:00"),
    ("minute", "2024-01-01 01:00:00"),
    ("hour", "2024-01-02 00:00:00"),
    ("day", "2024-02-01 00:00:00"),
    ("week", "2024-03-01 00:00:00"),
    ("month", "2025-01-01 00:00:00"),
    ("quarter", "2025-01-01 00:00:00"),
    ("year", "2030-01-01 00:00:00"),
] %}
{%- for datepart, end in spines %}
select
    '{{ datepart }}' as datepart,
    count(*) as periods,
    count(distinct date_{{ datepart }}) as distinct_periods,
    cast(min(date_{{ datepart }}) as string) as first_period,
    cast(max(date_{{ datepart }}) as string) as last_period
from (
    {{ dbt_utils.date_spine(datepart, "cast('2024-01-01 00:00:00' as timestamp)", "cast('" ~ end ~ "' as timestamp)") }}
) as spine
{% if not loop.last %}union all{% endif %}
{%- endfor %}
