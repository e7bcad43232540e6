{#-
    dbt-expectations-compatible tests on how recent and how complete time series are. "Now" is the
    wall-clock time in the time zone of the `dbt_date:time_zone` variable, as with dbt-expectations (the
    data's timestamps are read as wall-clock times there); without the variable, dbt.current_timestamp()
    in the Spark session's time zone (UTC on our servers). Rows dated in the future are ignored.
-#}

{#- The current wall-clock time in `dbt_date:time_zone`, or dbt.current_timestamp() when it is not set. -#}
{% macro _dq_now() -%}
    {%- set time_zone = var("dbt_date:time_zone", none) -%}
    {%- if time_zone -%}
        cast(convert_timezone('{{ dbt.escape_single_quotes(time_zone) }}', cast({{ dbt.current_timestamp() }} as timestamp_ntz)) as {{ dbt.type_timestamp() }})
    {%- else -%}
        {{ dbt.current_timestamp() }}
    {%- endif -%}
{%- endmacro %}


{#- Fails with one row (the latest value, or null) when nothing is newer than `interval` `datepart`s ago. -#}
{% test expect_row_values_to_have_recent_data(model, column_name, datepart, interval, row_condition=none) %}
{%- set now = dbt_expectations._dq_now() -%}
{%- set threshold = dbt_utils._dq_recency_threshold(datepart, interval, now=now) -%}
{%- set as_timestamp = "cast(" ~ column_name ~ " as " ~ dbt.type_timestamp() ~ ")" %}
with max_recency as (

    select max({{ as_timestamp }}) as max_timestamp
    from {{ model }}
    {{ dbt_utils._dq_where([as_timestamp ~ " <= " ~ now, row_condition]) }}

)

select
    max_timestamp,
    {{ threshold }} as threshold_timestamp
from max_recency
-- with no rows at all (e.g. all filtered out) the table has no recent data either
where coalesce(max_timestamp, cast('1970-01-01' as {{ dbt.type_timestamp() }})) < {{ threshold }}
{% endtest %}


{#-
    In every `group_by` group the latest `timestamp_column` is recent enough; without `group_by`, in the
    whole table. No rows at all (e.g. all filtered out) fails too, as in dbt-expectations. Fails with one
    row per stale group.
-#}
{% test expect_grouped_row_values_to_have_recent_data(
    model,
    group_by=none,
    timestamp_column=none,
    datepart=none,
    interval=none,
    row_condition=none
) %}
{#- dbt-expectations' argument order, with group_by optional: so the others need defaults too -#}
{%- if timestamp_column is none or datepart is none or interval is none -%}
    {{ exceptions.raise_compiler_error(
        "expect_grouped_row_values_to_have_recent_data needs timestamp_column, datepart and interval"
    ) }}
{%- endif -%}
{%- set group_by = dbt_utils._dq_as_list(group_by) -%}
{%- set now = dbt_expectations._dq_now() -%}
{%- set threshold = dbt_utils._dq_recency_threshold(datepart, interval, now=now) -%}
{%- set as_timestamp = "cast(" ~ timestamp_column ~ " as " ~ dbt.type_timestamp() ~ ")" %}
with latest_grouped_timestamps as (

    select
        {%- for column in group_by %}
        {{ dbt_utils._dq_group_select(column, loop.index) }},
        {%- endfor %}
        max({{ as_timestamp }}) as latest_timestamp_column
    from {{ model }}
    {{ dbt_utils._dq_where([as_timestamp ~ " <= " ~ now, row_condition]) }}
    {%- if group_by %}
    group by {{ group_by | join(", ") }}
    {%- endif %}

)

select
    latest_grouped_timestamps.*,
    {{ threshold }} as threshold_timestamp
-- one row of nulls when there are no groups at all, so an empty table fails
from (select 1 as anchor) as anchor
left join latest_grouped_timestamps
    on true
where
    latest_grouped_timestamps.latest_timestamp_column is null
    or latest_grouped_timestamps.latest_timestamp_column < {{ threshold }}
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
        {{ dbt_utils.date_spine(date_part, start_literal, end_literal) | indent(8) }}
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
