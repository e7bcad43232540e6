{#- dbt-expectations-compatible anomaly test on a metric's time series. -#}

{#- A metric as tested: its natural log with `take_logs` (0 for a zero or null value), else the value (0 for null). -#}
{% macro _dq_metric_value(column, take_logs) -%}
    {%- if take_logs -%}
        coalesce(ln(nullif({{ column }}, 0)), 0)
    {%- else -%}
        coalesce({{ column }}, 0)
    {%- endif -%}
{%- endmacro %}

{#-
    Sums `column_name` per `period` (and `group_by` group), optionally takes logs and differences with
    the value `lookback_periods` earlier, and compares each value with the mean and sample standard
    deviation of the `trend_periods` before it. Fails with the periods of the last `test_periods`
    (the current, incomplete period excluded) whose sigma lies outside
    [sigma_threshold_lower, sigma_threshold_upper] (both default to -/+ sigma_threshold).
-#}
{% test expect_column_values_to_be_within_n_moving_stdevs(
    model,
    column_name,
    date_column_name,
    group_by=none,
    period="day",
    lookback_periods=1,
    trend_periods=7,
    test_periods=14,
    sigma_threshold=3,
    sigma_threshold_upper=none,
    sigma_threshold_lower=none,
    take_diffs=true,
    take_logs=true
) %}
{%- set sigma_threshold_upper = sigma_threshold_upper if sigma_threshold_upper is not none else sigma_threshold -%}
{%- set sigma_threshold_lower = sigma_threshold_lower if sigma_threshold_lower is not none else -1 * sigma_threshold -%}
{%- set group_by = dbt_utils._dq_as_list(group_by) -%}
{%- set aliases = [] -%}
{%- for column in group_by -%}
    {%- do aliases.append(dbt_utils._dq_group_alias(column, loop.index)) -%}
{%- endfor -%}
{%- set partition_by = "partition by " ~ (aliases | join(", ")) if group_by else "" -%}
{%- set current_period = dbt.date_trunc(period, dbt.current_timestamp()) | trim %}
with grouped_metric_values as (

    select
        {{ dbt.date_trunc(period, date_column_name) | trim }} as metric_period,
        {%- for column in group_by %}
        {{ dbt_utils._dq_group_select(column, loop.index) }},
        {%- endfor %}
        sum({{ column_name }}) as agg_metric_value
    from {{ model }}
    group by {{ range(1, (group_by | length) + 2) | join(", ") }}

),

grouped_metric_values_with_priors as (

    select
        *,
        lag(agg_metric_value, {{ lookback_periods }}) over (
            {{ partition_by }}
            order by metric_period
        ) as prior_agg_metric_value
    from grouped_metric_values

),

metric_values as (

    select
        *,
        {{ dbt_expectations._dq_metric_value("agg_metric_value", take_logs) }}
        {%- if take_diffs %}
        - {{ dbt_expectations._dq_metric_value("prior_agg_metric_value", take_logs) }}
        {%- endif %} as metric_test_value
    from grouped_metric_values_with_priors

),

metric_moving_calcs as (

    select
        *,
        avg(metric_test_value) over (
            {{ partition_by }}
            order by metric_period
            rows between {{ trend_periods }} preceding and 1 preceding
        ) as metric_test_rolling_average,
        stddev_samp(metric_test_value) over (
            {{ partition_by }}
            order by metric_period
            rows between {{ trend_periods }} preceding and 1 preceding
        ) as metric_test_rolling_stddev
    from metric_values

),

metric_sigma as (

    select
        *,
        metric_test_value - metric_test_rolling_average as metric_test_delta,
        (metric_test_value - metric_test_rolling_average)
            / nullif(metric_test_rolling_stddev, 0) as metric_test_sigma
    from metric_moving_calcs

)

select *
from metric_sigma
where
    metric_period >= cast({{ dbt.dateadd(period, -1 * test_periods, current_period) | trim }} as {{ dbt.type_timestamp() }})
    and metric_period < {{ current_period }}
    and not (
        metric_test_sigma >= {{ sigma_threshold_lower }}
        and metric_test_sigma <= {{ sigma_threshold_upper }}
    )
{% endtest %}


{#-
    As in dbt-expectations: sums `column_name` per `group_by` group and fails with the groups whose sum
    lies more than `sigma_threshold` standard deviations (over all groups) from the groups' mean.
    Without `group_by` there is one sum, which cannot deviate, so the test passes.
-#}
{% test expect_column_values_to_be_within_n_stdevs(model, column_name, group_by=none, sigma_threshold=3) %}
{%- set group_by = dbt_utils._dq_as_list(group_by) %}
with metric_values as (

    select
        {%- for column in group_by %}
        {{ dbt_utils._dq_group_select(column, loop.index) }},
        {%- endfor %}
        sum({{ column_name }}) as metric_value
    from {{ model }}
    {%- if group_by %}
    group by {{ group_by | join(", ") }}
    {%- endif %}

),

with_statistics as (

    select
        *,
        avg(metric_value) over () as metric_average,
        stddev(metric_value) over () as metric_stddev
    from metric_values

),

z_scores as (

    select
        *,
        (metric_value - metric_average) / nullif(metric_stddev, 0) as metric_sigma
    from with_statistics

)

select *
from z_scores
where abs(metric_sigma) > {{ sigma_threshold }}
{% endtest %}
