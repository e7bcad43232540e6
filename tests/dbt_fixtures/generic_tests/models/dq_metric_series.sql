-- A daily metric over the last 30 days: `steady` grows by 1-2% a day, `spike` is the same series
-- tripled three days ago.
with days as (

    select explode(sequence(1, 30)) as days_ago

),

series as (

    select
        series_name,
        days_ago,
        30 - days_ago as day_number
    from days
    cross join (select explode(array('steady', 'spike')) as series_name)

)

select
    series_name,
    date_sub(current_date(), days_ago) as metric_date,
    round(
        100 * exp(0.015 * day_number + 0.005 * (day_number % 2))
        * case when series_name = 'spike' and days_ago = 3 then 3 else 1 end,
        4
    ) as metric_value
from series
