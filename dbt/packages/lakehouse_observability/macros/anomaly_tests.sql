{#-
    Anomaly tests over history (see anomaly_core.sql for how a run computes, stores and scores).
    Every test takes the shared arguments:
      timestamp_column       the time each row belongs to; without it the table is measured as a whole, once a run
      where_expression       a filter on the monitored rows
      training_period        {period, count}: history the detection buckets are compared with (default 14 days)
      detection_period       {period, count}: the recent buckets scored each run (default 2 days)
      time_bucket            {period, count}: the bucket size (default 1 day); period hour, day, week or month
      anomaly_sensitivity    the z-score beyond which a bucket is anomalous (default 3)
      anomaly_direction      both, spike or drop (default both)
      seasonality            none, or day_of_week: compare only with the same weekday (training period x 7)
      min_training_set_size  fewer training buckets than this flag nothing (default 7)
      ignore_small_changes   {spike_failure_percent_threshold, drop_failure_percent_threshold}: also require
                             the value to differ from the training mean by more than that percentage
    The refs tie each test to the observability tables, so `dbt build` creates them first.
-#}

{% test volume_anomalies(
    model, timestamp_column=none, where_expression=none, training_period=none, detection_period=none,
    time_bucket=none, anomaly_sensitivity=none, anomaly_direction=none, seasonality=none,
    min_training_set_size=none, ignore_small_changes=none
) %}
    {%- set metrics_relation = ref('data_monitoring_metrics') -%}
    {%- set scores_relation = ref('anomaly_scores') -%}
    {%- set arguments = {
        'timestamp_column': timestamp_column, 'where_expression': where_expression,
        'training_period': training_period, 'detection_period': detection_period, 'time_bucket': time_bucket,
        'anomaly_sensitivity': anomaly_sensitivity, 'anomaly_direction': anomaly_direction,
        'seasonality': seasonality, 'min_training_set_size': min_training_set_size,
        'ignore_small_changes': ignore_small_changes,
    } -%}
    {%- set settings = lakehouse_observability.observability_anomaly_settings(arguments) -%}
    {{ lakehouse_observability.observability_anomaly_test(
        model,
        {'kind': 'volume', 'metric_names': ['row_count'], 'timestamp_column': settings['timestamp_column']},
        arguments, metrics_relation, scores_relation) }}
{% endtest %}


{% test freshness_anomalies(
    model, timestamp_column=none, where_expression=none, training_period=none, detection_period=none,
    time_bucket=none, anomaly_sensitivity=none, anomaly_direction=none, seasonality=none,
    min_training_set_size=none, ignore_small_changes=none
) %}
    {%- set metrics_relation = ref('data_monitoring_metrics') -%}
    {%- set scores_relation = ref('anomaly_scores') -%}
    {%- set arguments = {
        'timestamp_column': timestamp_column, 'where_expression': where_expression,
        'training_period': training_period, 'detection_period': detection_period, 'time_bucket': time_bucket,
        'anomaly_sensitivity': anomaly_sensitivity, 'anomaly_direction': anomaly_direction or 'spike',
        'seasonality': seasonality, 'min_training_set_size': min_training_set_size,
        'ignore_small_changes': ignore_small_changes,
    } -%}
    {%- set settings = lakehouse_observability.observability_anomaly_settings(arguments) -%}
    {%- if not settings['timestamp_column'] -%}
        {{ exceptions.raise_compiler_error(
            "freshness_anomalies needs timestamp_column: the time each row was updated or loaded (e.g. _loaded_at)") }}
    {%- endif -%}
    {{ lakehouse_observability.observability_anomaly_test(
        model,
        {'kind': 'freshness', 'metric_names': ['freshness'], 'timestamp_column': settings['timestamp_column']},
        arguments, metrics_relation, scores_relation) }}
{% endtest %}


{% test event_freshness_anomalies(
    model, event_timestamp_column, update_timestamp_column=none, where_expression=none, training_period=none,
    detection_period=none, time_bucket=none, anomaly_sensitivity=none, anomaly_direction=none, seasonality=none,
    min_training_set_size=none, ignore_small_changes=none
) %}
    {%- set metrics_relation = ref('data_monitoring_metrics') -%}
    {%- set scores_relation = ref('anomaly_scores') -%}
    {%- set arguments = {
        'where_expression': where_expression,
        'training_period': training_period, 'detection_period': detection_period, 'time_bucket': time_bucket,
        'anomaly_sensitivity': anomaly_sensitivity, 'anomaly_direction': anomaly_direction or 'spike',
        'seasonality': seasonality, 'min_training_set_size': min_training_set_size,
        'ignore_small_changes': ignore_small_changes,
    } -%}
    {{ lakehouse_observability.observability_anomaly_test(
        model,
        {'kind': 'event_freshness', 'metric_names': ['event_freshness'],
         'timestamp_column': update_timestamp_column, 'event_timestamp_column': event_timestamp_column},
        arguments, metrics_relation, scores_relation) }}
{% endtest %}


{% test column_anomalies(
    model, column_name, column_anomalies=none, timestamp_column=none, where_expression=none, training_period=none,
    detection_period=none, time_bucket=none, anomaly_sensitivity=none, anomaly_direction=none, seasonality=none,
    min_training_set_size=none, ignore_small_changes=none
) %}
    {%- set metrics_relation = ref('data_monitoring_metrics') -%}
    {%- set scores_relation = ref('anomaly_scores') -%}
    {%- set arguments = {
        'timestamp_column': timestamp_column, 'where_expression': where_expression,
        'training_period': training_period, 'detection_period': detection_period, 'time_bucket': time_bucket,
        'anomaly_sensitivity': anomaly_sensitivity, 'anomaly_direction': anomaly_direction,
        'seasonality': seasonality, 'min_training_set_size': min_training_set_size,
        'ignore_small_changes': ignore_small_changes,
    } -%}
    {%- set settings = lakehouse_observability.observability_anomaly_settings(arguments) -%}
    {%- set metric_names = [] -%}
    {%- for metric_name in (column_anomalies or ['null_percent', 'distinct_count']) -%}
        {#- `mean` is what many call the average -#}
        {%- do metric_names.append('average' if metric_name == 'mean' else metric_name) -%}
    {%- endfor -%}
    {%- if lakehouse_observability.observability_writes_allowed() -%}
        {%- do lakehouse_observability.observability_check_column_metrics(lakehouse_observability.observability_tested_relation(model), column_name, metric_names) -%}
    {%- endif -%}
    {{ lakehouse_observability.observability_anomaly_test(
        model,
        {'kind': 'column', 'metric_names': metric_names, 'column_name': column_name,
         'timestamp_column': settings['timestamp_column']},
        arguments, metrics_relation, scores_relation) }}
{% endtest %}


{% test dimension_anomalies(
    model, dimensions, timestamp_column=none, where_expression=none, training_period=none, detection_period=none,
    time_bucket=none, anomaly_sensitivity=none, anomaly_direction=none, seasonality=none,
    min_training_set_size=none, ignore_small_changes=none
) %}
    {%- set metrics_relation = ref('data_monitoring_metrics') -%}
    {%- set scores_relation = ref('anomaly_scores') -%}
    {%- set arguments = {
        'timestamp_column': timestamp_column, 'where_expression': where_expression,
        'training_period': training_period, 'detection_period': detection_period, 'time_bucket': time_bucket,
        'anomaly_sensitivity': anomaly_sensitivity, 'anomaly_direction': anomaly_direction,
        'seasonality': seasonality, 'min_training_set_size': min_training_set_size,
        'ignore_small_changes': ignore_small_changes,
    } -%}
    {%- set settings = lakehouse_observability.observability_anomaly_settings(arguments) -%}
    {%- set dimension_list = [dimensions] if dimensions is string else dimensions -%}
    {%- if not dimension_list -%}
        {{ exceptions.raise_compiler_error("dimension_anomalies needs dimensions: the column(s) to count rows by") }}
    {%- endif -%}
    {%- if lakehouse_observability.observability_writes_allowed() -%}
        {%- for dimension in dimension_list if lakehouse_observability.observability_column_is_protected(dimension) -%}
            {{ exceptions.raise_compiler_error(
                "dimension_anomalies: " ~ dimension ~ " is personal data (meta pii/classification); its values would "
                ~ "be written to the observability tables. Use a dimension that is not personal data") }}
        {%- endfor -%}
    {%- endif -%}
    {{ lakehouse_observability.observability_anomaly_test(
        model,
        {'kind': 'dimension', 'metric_names': ['row_count'], 'dimensions': dimension_list,
         'timestamp_column': settings['timestamp_column']},
        arguments, metrics_relation, scores_relation) }}
{% endtest %}
