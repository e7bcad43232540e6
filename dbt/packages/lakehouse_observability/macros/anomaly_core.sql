{#-
    The machinery shared by the anomaly tests (anomaly_tests.sql).

    A test run (dbt build / test / retry):
      1. computes its metric per time bucket over the buckets not stored yet (and always the detection
         period, for late rows), and appends them to `data_monitoring_metrics`, so history accumulates
         across runs;
      2. scores every bucket of the detection period against the training buckets before it
         (z-score = (value - mean) / stddev), over completed buckets only: the bucket holding
         "now" (`observability_as_of`, default: the run's start) is never scored;
      3. appends the scores to `anomaly_scores` (the report charts them against the expected band)
         and returns the anomalous ones: each returned row is a failure.
    `dbt compile` and `docs generate` render the same SQL without computing or writing anything.
-#}

{% macro observability_current_node() %}
    {#- Called from inside a test macro, whose own `model` argument hides this context's node. -#}
    {{ return(model) }}
{% endmacro %}


{% macro observability_writes_allowed() %}
    {{ return(execute and flags.WHICH in ['build', 'test', 'retry'] and var('observability_enabled', true)) }}
{% endmacro %}


{#-
    True when a test is being run (dbt build / test / retry, with execution) while the var
    `observability_enabled` is false: an anomaly or schema test then has no history to read or write,
    and must not pass as if it had looked. It warns in the log and fails with one row saying why.
-#}
{% macro observability_disabled_for_this_run() %}
    {{ return(execute and flags.WHICH in ['build', 'test', 'retry'] and not var('observability_enabled', true)) }}
{% endmacro %}


{% macro observability_not_evaluated_reason() %}
    {%- set node = lakehouse_observability.observability_current_node() -%}
    {%- set reason = "not evaluated: observability_enabled is false, so " ~ node.name ~ " has no history to compare with; "
                     ~ "run it with observability enabled, or leave it out (--exclude test_name:<test>)" -%}
    {%- do lakehouse_observability.observability_warn(reason) -%}
    {{ return(reason) }}
{% endmacro %}


{#- The relation a test reads: `model`, or the attached node's when a `where` config made it a subquery. -#}
{% macro observability_tested_relation(model) %}
    {%- if model is not string and model.identifier is defined and model.identifier -%}
        {{ return(model) }}
    {%- endif -%}
    {%- set node = lakehouse_observability.observability_graph_node(lakehouse_observability.observability_tested_node_id(lakehouse_observability.observability_current_node())) -%}
    {{ return(api.Relation.create(schema=node.get('schema'),
                                  identifier=node.get('alias') or node.get('identifier') or node.get('name'))) }}
{% endmacro %}


{#- Creates the table if a run reaches a test before the observability models were ever built. -#}
{% macro observability_ensure_exists(relation, table) %}
    {%- if adapter.get_relation(database=relation.database, schema=relation.schema,
                                identifier=relation.identifier) is none -%}
        {%- do lakehouse_observability.observability_ensure_table(relation, table) -%}
    {%- endif -%}
{% endmacro %}


{% macro observability_check_period(name, value) %}
    {%- if value is not mapping or value.get('period') not in ['hour', 'day', 'week', 'month']
          or value.get('count') is not integer or value.get('count') < 1 -%}
        {{ exceptions.raise_compiler_error(
            "anomaly test argument `" ~ name ~ "` is " ~ value ~ "; it must look like {period: day, count: 14} "
            ~ "with period hour, day, week or month and a whole count of at least 1") }}
    {%- endif -%}
    {{ return(value) }}
{% endmacro %}


{#-
    The test's settings: its arguments, else the project's `observability_anomaly_defaults` var,
    else the built-in defaults. Invalid values stop the test with the argument and the fix.
-#}
{% macro observability_anomaly_settings(arguments) %}
    {%- set settings = {
        'timestamp_column': none,
        'where_expression': none,
        'training_period': {'period': 'day', 'count': 14},
        'detection_period': {'period': 'day', 'count': 2},
        'time_bucket': {'period': 'day', 'count': 1},
        'anomaly_sensitivity': 3,
        'anomaly_direction': 'both',
        'seasonality': 'none',
        'min_training_set_size': 7,
        'ignore_small_changes': {},
    } -%}
    {%- do settings.update(var('observability_anomaly_defaults', {})) -%}
    {%- for key, value in arguments.items() if value is not none -%}
        {%- do settings.update({key: value}) -%}
    {%- endfor -%}
    {%- for name in ['training_period', 'detection_period', 'time_bucket'] -%}
        {%- do lakehouse_observability.observability_check_period(name, settings[name]) -%}
    {%- endfor -%}
    {%- if settings['anomaly_direction'] not in ['both', 'spike', 'drop'] -%}
        {{ exceptions.raise_compiler_error("anomaly_direction is '" ~ settings['anomaly_direction']
                                           ~ "'; use both, spike or drop") }}
    {%- endif -%}
    {%- if settings['seasonality'] not in ['none', 'day_of_week'] -%}
        {{ exceptions.raise_compiler_error("seasonality is '" ~ settings['seasonality'] ~ "'; use none or day_of_week") }}
    {%- endif -%}
    {%- if settings['seasonality'] == 'day_of_week' and settings['time_bucket'] != {'period': 'day', 'count': 1} -%}
        {{ exceptions.raise_compiler_error(
            "seasonality day_of_week compares days with the same weekday; it needs time_bucket {period: day, count: 1}") }}
    {%- endif -%}
    {%- if settings['anomaly_sensitivity'] is not number or settings['anomaly_sensitivity'] <= 0 -%}
        {{ exceptions.raise_compiler_error("anomaly_sensitivity is " ~ settings['anomaly_sensitivity']
                                           ~ "; use a positive number of standard deviations, such as 3") }}
    {%- endif -%}
    {%- if settings['min_training_set_size'] is not integer or settings['min_training_set_size'] < 2 -%}
        {{ exceptions.raise_compiler_error("min_training_set_size is " ~ settings['min_training_set_size']
                                           ~ "; a standard deviation needs at least 2 training buckets") }}
    {%- endif -%}
    {%- if settings['ignore_small_changes'] is not mapping -%}
        {{ exceptions.raise_compiler_error(
            "ignore_small_changes must look like {spike_failure_percent_threshold: 10, drop_failure_percent_threshold: 10}") }}
    {%- endif -%}
    {{ return(settings) }}
{% endmacro %}


{#- Spark interval literal for {period, count}. Weeks are spelled as days. -#}
{% macro observability_interval(value, factor=1) %}
    {%- set count = value['count'] * factor -%}
    {%- if value['period'] == 'hour' -%}
        {{ return('interval ' ~ count ~ ' hours') }}
    {%- elif value['period'] == 'day' -%}
        {{ return('interval ' ~ count ~ ' days') }}
    {%- elif value['period'] == 'week' -%}
        {{ return('interval ' ~ (count * 7) ~ ' days') }}
    {%- else -%}
        {{ return('interval ' ~ count ~ ' months') }}
    {%- endif -%}
{% endmacro %}


{#- The start of the time bucket holding `expression` (UTC; weeks start on Monday). -#}
{% macro observability_bucket_floor(expression, bucket) %}
    {%- set count = bucket['count'] -%}
    {%- if bucket['period'] == 'month' -%}
        {{ return("cast(add_months(to_timestamp('1970-01-01'), cast(floor(((year(" ~ expression ~ ") - 1970) * 12 + month("
                  ~ expression ~ ") - 1) / " ~ count ~ ") * " ~ count ~ " as int)) as timestamp)") }}
    {%- endif -%}
    {%- set seconds = {'hour': 3600, 'day': 86400, 'week': 604800}[bucket['period']] * count -%}
    {#- 1970-01-05, the first Monday after the epoch -#}
    {%- set offset = 345600 if bucket['period'] == 'week' else 0 -%}
    {{ return('timestamp_seconds(floor((unix_seconds(' ~ expression ~ ') - ' ~ offset ~ ') / ' ~ seconds ~ ') * '
              ~ seconds ~ ' + ' ~ offset ~ ')') }}
{% endmacro %}


{#- "Now" for anomaly detection: var observability_as_of (for backfills and tests) or the run's start. -#}
{% macro observability_as_of_literal() %}
    {%- set configured = var('observability_as_of', none) -%}
    {%- if configured -%}
        {%- set text = configured | string | replace('T', ' ') | replace('Z', '') -%}
        {%- if not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9:.]+)?$', text) -%}
            {{ exceptions.raise_compiler_error("observability_as_of is '" ~ configured
                                               ~ "'; use a UTC time such as 2026-03-01 06:00:00") }}
        {%- endif -%}
        {{ return("to_timestamp('" ~ text ~ "')") }}
    {%- endif -%}
    {{ return(lakehouse_observability.observability_timestamp_literal(run_started_at)) }}
{% endmacro %}


{#-
    One row: detection_end (the end of the last completed bucket), detection_start, training_start.
    Table-level monitors (no timestamp column) measure the table as it is now: their one detection
    bucket is the one holding now.
-#}
{% macro observability_bounds_sql(settings, bucketed) %}
    {%- set bucket = settings['time_bucket'] -%}
    {%- set factor = 7 if settings['seasonality'] == 'day_of_week' else 1 -%}
    {%- set as_of = lakehouse_observability.observability_as_of_literal() -%}
    {%- if bucketed -%}
        {%- set detection_end = lakehouse_observability.observability_bucket_floor(as_of, bucket) -%}
        {%- set detection_start = lakehouse_observability.observability_bucket_floor(
            '(' ~ detection_end ~ ' - ' ~ lakehouse_observability.observability_interval(settings['detection_period']) ~ ')', bucket) -%}
    {%- else -%}
        {%- set detection_start = lakehouse_observability.observability_bucket_floor(as_of, bucket) -%}
        {%- set detection_end = '(' ~ detection_start ~ ' + ' ~ lakehouse_observability.observability_interval(bucket) ~ ')' -%}
    {%- endif -%}
    {%- set training_start = lakehouse_observability.observability_bucket_floor(
        '(' ~ detection_start ~ ' - ' ~ lakehouse_observability.observability_interval(settings['training_period'], factor) ~ ')', bucket) -%}
    select
        {{ training_start }} as training_start,
        {{ detection_start }} as detection_start,
        {{ detection_end }} as detection_end
{% endmacro %}


{#- The bucket columns of a time-bucketed monitor: the buckets from `compute_from` to detection_end. -#}
{% macro observability_buckets_sql(settings) %}
    {%- set step = lakehouse_observability.observability_interval(settings['time_bucket']) -%}
    select bucket_start, bucket_start + {{ step }} as bucket_end
    from window_bounds
    lateral view explode(
        case
            when compute_from < detection_end
                then sequence(compute_from, detection_end - {{ step }}, {{ step }})
            else cast(array() as array<timestamp>)
        end
    ) bucket_list as bucket_start
{% endmacro %}


{#-
    The last bucket_end stored for every one of `metric_keys`, as a timestamp literal, or 'null'
    when one of them has no history yet (then the whole training period is computed).
-#}
{% macro observability_last_stored_end(metrics_relation, metric_keys) %}
    {%- set rows = run_query(
        "select count(distinct metric_key), cast(min(last_end) as string) from (select metric_key, max(bucket_end)"
        ~ " as last_end from " ~ metrics_relation ~ " where metric_key in ('" ~ (metric_keys | join("', '"))
        ~ "') group by metric_key) as stored").rows -%}
    {%- if not rows or rows[0][0] < (metric_keys | length) or rows[0][1] is none -%}
        {{ return('null') }}
    {%- endif -%}
    {{ return("to_timestamp('" ~ rows[0][1] ~ "')") }}
{% endmacro %}


{#-
    The monitor's entry point. `monitor` is a dict: kind (volume, freshness, event_freshness, column,
    dimension), metric_names, timestamp_column (or none), column_name, dimensions and the metric SQL
    builder's extras. Returns the test's SQL.
-#}
{% macro observability_anomaly_test(model, monitor, arguments, metrics_relation, scores_relation) %}
    {%- set settings = lakehouse_observability.observability_anomaly_settings(arguments) -%}
    {%- if lakehouse_observability.observability_disabled_for_this_run() -%}
        {#- fails with one row naming the reason, instead of passing without having looked -#}
        {%- set reason = lakehouse_observability.observability_not_evaluated_reason() -%}
        {{ return(lakehouse_observability.observability_anomalies_sql([{'metric_name': reason}])) }}
    {%- endif -%}
    {%- if not lakehouse_observability.observability_writes_allowed() -%}
        {{ return(lakehouse_observability.observability_anomalies_sql([])) }}
    {%- endif -%}

    {%- set test_node = lakehouse_observability.observability_current_node() -%}
    {%- set relation = lakehouse_observability.observability_tested_relation(model) -%}
    {%- set full_table_name = (relation.schema ~ '.' ~ relation.identifier) | lower -%}
    {%- set model_id = lakehouse_observability.observability_tested_node_id(test_node) -%}
    {%- set bucketed = monitor['timestamp_column'] is not none -%}
    {%- do lakehouse_observability.observability_ensure_exists(metrics_relation, 'data_monitoring_metrics') -%}
    {%- do lakehouse_observability.observability_ensure_exists(scores_relation, 'anomaly_scores') -%}

    {#- what identifies this metric's history: the table, what is measured and how it is bucketed -#}
    {%- set properties = {
        'kind': monitor['kind'],
        'column_name': monitor.get('column_name'),
        'timestamp_column': monitor['timestamp_column'],
        'dimensions': monitor.get('dimensions'),
        'event_timestamp_column': monitor.get('event_timestamp_column'),
        'where_expression': settings['where_expression'],
        'time_bucket': settings['time_bucket'] if bucketed else none,
    } -%}
    {%- set properties_json = lakehouse_observability.observability_to_json(properties) -%}
    {%- set keys = {} -%}
    {%- for metric_name in monitor['metric_names'] -%}
        {%- do keys.update({metric_name: local_md5(full_table_name ~ '|' ~ properties_json ~ '|' ~ metric_name)}) -%}
    {%- endfor -%}
    {%- set last_end = lakehouse_observability.observability_last_stored_end(metrics_relation, keys.values() | list) if bucketed else 'null' -%}
    {%- set dimension = monitor['dimensions'] | join(', ') if monitor.get('dimensions') else none -%}

    {%- set metrics_sql -%}
        with bounds as (
            {{ lakehouse_observability.observability_bounds_sql(settings, bucketed) }}
        ),

        window_bounds as (
            select
                -- recompute the detection period every run: late rows land in buckets already stored
                greatest(training_start, least(detection_start, coalesce({{ last_end }}, training_start))) as compute_from,
                training_start,
                detection_start,
                detection_end
            from bounds
        ),

        {{ lakehouse_observability.observability_metric_ctes(model, monitor, settings, bucketed) }}

        select
            case metric_name
                {%- for metric_name, key in keys.items() %}
                when '{{ metric_name }}' then '{{ key }}'
                {%- endfor %}
            end as metric_key,
            {{ lakehouse_observability.observability_literal(properties_json, 'string') }} as metric_properties,
            '{{ test_node.unique_id }}' as test_unique_id,
            '{{ invocation_id }}' as invocation_id,
            {{ lakehouse_observability.observability_literal(model_id, 'string') }} as model_unique_id,
            '{{ full_table_name }}' as full_table_name,
            {{ lakehouse_observability.observability_literal(monitor.get('column_name'), 'string') }} as column_name,
            metric_name,
            {{ lakehouse_observability.observability_literal(dimension, 'string') }} as dimension,
            dimension_value,
            bucket_start,
            bucket_end,
            cast(metric_value as double) as metric_value,
            current_timestamp() as computed_at
        from monitored_metrics
    {%- endset -%}
    {%- do run_query('insert into ' ~ metrics_relation ~ ' ('
                     ~ (lakehouse_observability.observability_table_columns('data_monitoring_metrics') | map(attribute=0) | join(', '))
                     ~ ')\n' ~ metrics_sql) -%}

    {#- scores come back to Jinja: stored for the report, and the anomalous ones are the test's rows -#}
    {%- set scored = run_query(lakehouse_observability.observability_scores_sql(settings, bucketed, keys.values() | list, metrics_relation,
                                                       test_node.unique_id, model_id, full_table_name)) -%}
    {%- set scores = [] -%}
    {%- set anomalies = [] -%}
    {%- for row in scored.rows -%}
        {%- set score = {} -%}
        {%- for name in scored.column_names -%}
            {%- do score.update({name: row[name]}) -%}
        {%- endfor -%}
        {%- do scores.append(score) -%}
        {%- if score['is_anomalous'] -%}
            {%- do anomalies.append(score) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do lakehouse_observability.observability_insert_rows(scores_relation, 'anomaly_scores', scores) -%}
    {{ return(lakehouse_observability.observability_anomalies_sql(anomalies)) }}
{% endmacro %}


{#- The test's result: one row per anomalous bucket, as literals (nothing left to read). -#}
{% macro observability_anomalies_sql(anomalies) %}
    {%- set columns = [
        ['bucket_start', 'timestamp'], ['bucket_end', 'timestamp'], ['metric_name', 'string'],
        ['column_name', 'string'], ['dimension_value', 'string'], ['metric_value', 'double'],
        ['min_expected', 'double'], ['max_expected', 'double'], ['training_avg', 'double'],
        ['training_stddev', 'double'], ['z_score', 'double'], ['training_set_size', 'bigint'],
    ] -%}
    {%- if not anomalies -%}
        select
        {%- for column in columns %}
            cast(null as {{ column[1] }}) as {{ column[0] }}{{ ',' if not loop.last }}
        {%- endfor %}
        where false
    {%- else -%}
        {%- for anomaly in anomalies %}
        select
            {%- for column in columns %}
            cast({{ lakehouse_observability.observability_literal(anomaly[column[0]], column[1]) }} as {{ column[1] }}) as {{ column[0] }}
            {{- ',' if not loop.last }}
            {%- endfor %}
        {{ 'union all' if not loop.last }}
        {%- endfor %}
    {%- endif -%}
{% endmacro %}


{#- Scores the detection buckets of `metric_keys` against their training buckets. -#}
{% macro observability_scores_sql(settings, bucketed, metric_keys, metrics_relation, test_id, model_id, full_table_name) %}
    {%- set sensitivity = settings['anomaly_sensitivity'] -%}
    {%- set direction = settings['anomaly_direction'] -%}
    {%- set small = settings['ignore_small_changes'] -%}
    {%- set spike_percent = small.get('spike_failure_percent_threshold') -%}
    {%- set drop_percent = small.get('drop_failure_percent_threshold') -%}
    with bounds as (
        {{ lakehouse_observability.observability_bounds_sql(settings, bucketed) }}
    ),

    history as (
        -- the latest computation of each bucket
        select metric_key, metric_name, column_name, dimension_value, bucket_start, bucket_end, metric_value
        from (
            select
                metrics.*,
                row_number() over (
                    partition by metric_key, dimension_value, bucket_start order by computed_at desc
                ) as computation_rank
            from {{ metrics_relation }} as metrics
            where
                metric_key in ('{{ metric_keys | join("', '") }}')
                and bucket_start >= (select training_start from bounds)
                and bucket_start < (select detection_end from bounds)
        ) as ranked
        where computation_rank = 1
    ),

    detection as (
        select * from history
        where bucket_start >= (select detection_start from bounds)
    ),

    training as (
        select * from history
        where bucket_start < (select detection_start from bounds) and metric_value is not null
    ),

    stats as (
        select
            detection.metric_key,
            detection.metric_name,
            detection.column_name,
            detection.dimension_value,
            detection.bucket_start,
            detection.bucket_end,
            detection.metric_value,
            avg(training.metric_value) as training_avg,
            stddev_samp(training.metric_value) as training_stddev,
            count(training.metric_value) as training_set_size,
            min(training.bucket_start) as training_start
        from detection
        left join training
            on
                training.metric_key = detection.metric_key
                and training.dimension_value <=> detection.dimension_value
                {%- if settings['seasonality'] == 'day_of_week' %}
                and dayofweek(training.bucket_start) = dayofweek(detection.bucket_start)
                {%- endif %}
        group by 1, 2, 3, 4, 5, 6, 7
    ),

    bands as (
        select
            *,
            training_avg - {{ sensitivity }} * coalesce(training_stddev, 0) as min_expected,
            training_avg + {{ sensitivity }} * coalesce(training_stddev, 0) as max_expected
        from stats
    )

    select
        '{{ invocation_id }}' as invocation_id,
        '{{ test_id }}' as test_unique_id,
        metric_key,
        {{ lakehouse_observability.observability_literal(model_id, 'string') }} as model_unique_id,
        '{{ full_table_name }}' as full_table_name,
        column_name,
        metric_name,
        dimension_value,
        bucket_start,
        bucket_end,
        metric_value,
        training_avg,
        training_stddev,
        training_set_size,
        training_start,
        min_expected,
        max_expected,
        case when training_stddev > 0 then (metric_value - training_avg) / training_stddev end as z_score,
        cast({{ sensitivity }} as double) as anomaly_sensitivity,
        '{{ direction }}' as anomaly_direction,
        coalesce(
            metric_value is not null
            and training_set_size >= {{ settings['min_training_set_size'] }}
            and (
                {%- if direction in ['both', 'spike'] %}
                (metric_value > max_expected
                    {%- if spike_percent is not none %}
                    and metric_value > training_avg + abs(training_avg) * {{ spike_percent }} / 100.0
                    {%- endif %})
                {%- else %}
                false
                {%- endif %}
                or
                {%- if direction in ['both', 'drop'] %}
                (metric_value < min_expected
                    {%- if drop_percent is not none %}
                    and metric_value < training_avg - abs(training_avg) * {{ drop_percent }} / 100.0
                    {%- endif %})
                {%- else %}
                false
                {%- endif %}
            ),
            false
        ) as is_anomalous,
        current_timestamp() as scored_at
    from bands
{% endmacro %}
