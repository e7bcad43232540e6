{#-
    dbt-expectations-compatible tests on how recent and how complete time series are. "Now" is
    dbt.current_timestamp() (UTC on our Spark sessions); rows dated in the future are ignored.
-#}

{#- Fails with one row (the latest value, or null) when nothing is newer than `interval` `datepart`s ago. -#}
{% test expect_row_values_to_have_recent_data(model, column_name, datepart, interval, row_condition=none) %}
{%- set as_timestamp = "cast(" ~ column_name ~ " as " ~ dbt.type_timestamp() ~ ")" %}
with max_recency as (

    select max({{ as_timestamp }}) as max_timestamp
    from {{ model }}
    {{ dbt_utils._dq_where([as_timestamp ~ " <= " ~ dbt.current_timestamp(), row_condition]) }}

)

select
    max_timestamp,
    {{ dbt_utils._dq_recency_threshold(datepart, interval) }} as threshold_timestamp
from max_recency
-- with no rows at all (e.g. all filtered out) the table has no recent data either
where coalesce(max_timestamp, cast('1970-01-01' as {{ dbt.type_timestamp() }}))
    < {{ dbt_utils._dq_recency_threshold(datepart, interval) }}
{% endtest %}


{#- Fails with one row per `group_by` group whose latest `timestamp_column` is older than the threshold. -#}
{% test expect_grouped_row_values_to_have_recent_data(
    model,
    group_by,
    timestamp_column,
    datepart,
    interval,
    row_condition=none
) %}
{%- set group_by = dbt_utils._dq_as_list(group_by) -%}
{%- set as_timestamp = "cast(" ~ timestamp_column ~ " as " ~ dbt.type_timestamp() ~ ")" %}
with latest_grouped_timestamps as (

    select
        {%- for column in group_by %}
        {{ dbt_utils._dq_group_select(column, loop.index) }},
        {%- endfor %}
        max({{ as_timestamp }}) as latest_timestamp_column
    from {{ model }}
    {{ dbt_utils._dq_where([as_timestamp ~ " <= " ~ dbt.current_timestamp(), row_condition]) }}
    group by {{ group_by | join(", ") }}

)

select
    *,
    {{ dbt_utils._dq_recency_threshold(datepart, interval) }} as threshold_timestamp
from latest_grouped_timestamps
where latest_timestamp_column < {{ dbt_utils._dq_recency_threshold(datepart, interval) }}
{% endtest %}


{#-
    Every `date_part` (every `interval`-th one, counted from the start date) between the start and the
    end date has at least one row. The dates default to the first and last `date_col` in the data; as in
    dbt-expectations the end date itself is not checked. `exclusion_condition` (on `date_<date_part>`)
    keeps only the missing periods that should fail. Fails with one row per missing period.
-#}
{% test expect_row_values_to_have_data_for_every_n_datepart(
    model,
    date_col,
    date_part="day",
    interval=none,
    row_condition=none,
    exclusion_condition=none,
    test_start_date=none,
    test_end_date=none
) %}
{%- if execute -%}
{%- set start_date = test_start_date -%}
{%- set end_date = test_end_date -%}
{%- if not start_date or not end_date -%}
    {%- set bounds_sql -%}
        select
            cast(min(cast({{ date_col }} as date)) as {{ dbt.type_string() }}) as start_date,
            cast(max(cast({{ date_col }} as date)) as {{ dbt.type_string() }}) as end_date
        from {{ model }}
        {{ dbt_utils._dq_where([row_condition]) }}
    {%- endset -%}
    {%- set bounds = run_query(bounds_sql).rows[0] -%}
    {%- if not start_date and bounds[0] is not none -%}
        {%- set start_date = (bounds[0] | string)[:10] -%}
    {%- endif -%}
    {%- if not end_date and bounds[1] is not none -%}
        {%- set end_date = (bounds[1] | string)[:10] -%}
    {%- endif -%}
{%- endif -%}
{%- set period = "date_" ~ date_part -%}
{%- set timestamp_type = dbt.type_timestamp() -%}
{%- if not start_date or not end_date %}
-- no data and no dates given: nothing to check
select cast(null as {{ timestamp_type }}) as {{ period }}, true as is_missing, 0 as row_cnt
where false
{%- else %}
{%- set start_literal = "cast('" ~ start_date ~ "' as date)" -%}
{%- set end_literal = "cast('" ~ end_date ~ "' as date)" -%}
{%- set truncated = dbt.date_trunc(date_part, date_col) | trim %}
with base_dates as (

    select cast(spine.{{ period }} as {{ timestamp_type }}) as {{ period }}
    from (
        {{ dbt.date_spine(date_part, start_literal, end_literal) | indent(8) }}
    ) as spine
    {%- if interval %}
    -- keep every `interval`-th period counted from the start date
    where mod(
        cast({{ dbt.datediff(start_literal, "spine." ~ period, date_part) | trim }} as {{ dbt.type_int() }}),
        cast({{ interval }} as {{ dbt.type_int() }})
    ) = 0
    {%- endif %}

),

model_data as (

    select
        {%- if not interval %}
        cast({{ truncated }} as {{ timestamp_type }}) as {{ period }},
        {%- else %}
        -- move each row back to the start of its `interval`-long bucket
        cast({{ dbt.dateadd(
            date_part,
            "mod(cast(" ~ (dbt.datediff(start_literal, truncated, date_part) | trim) ~ " as " ~ dbt.type_int()
                ~ "), cast(" ~ interval ~ " as " ~ dbt.type_int() ~ ")) * (-1)",
            truncated
        ) | trim }} as {{ timestamp_type }}) as {{ period }},
        {%- endif %}
        count(*) as row_cnt
    from {{ model }}
    {{ dbt_utils._dq_where([date_col ~ " is not null", row_condition]) }}
    group by 1

),

final as (

    select
        base_dates.{{ period }},
        model_data.{{ period }} is null as is_missing,
        coalesce(model_data.row_cnt, 0) as row_cnt
    from base_dates
    left join model_data
        on base_dates.{{ period }} = model_data.{{ period }}

)

select *
from final
{{ dbt_utils._dq_where(["row_cnt = 0", exclusion_condition]) }}
{%- endif %}
{%- endif -%}
{% endtest %}
