{#-
    The metric each anomaly monitor measures, as CTEs ending in `monitored_metrics`
    (metric_name, dimension_value, bucket_start, bucket_end, metric_value). They run after the
    `bounds` and `window_bounds` CTEs of observability_anomaly_test: buckets from window_bounds'
    compute_from up to detection_end, or one table-level measurement when there is no timestamp.
-#}

{#- Aggregates of column_anomalies. Counts fill empty buckets with 0; the others leave them empty. -#}
{% macro observability_column_metric_specs() %}
    {{ return({
        'null_count': {'kind': 'any', 'zero_filled': true, 'sql': 'sum(case when {c} is null then 1 else 0 end)'},
        'null_percent': {'kind': 'any', 'zero_filled': false,
                         'sql': '100.0 * sum(case when {c} is null then 1 else 0 end) / nullif(count(*), 0)'},
        'not_null_percent': {'kind': 'any', 'zero_filled': false,
                             'sql': '100.0 * count({c}) / nullif(count(*), 0)'},
        'missing_count': {'kind': 'any', 'zero_filled': true,
                          'sql': "sum(case when {c} is null or trim(cast({c} as string)) = '' then 1 else 0 end)"},
        'missing_percent': {'kind': 'any', 'zero_filled': false,
                            'sql': "100.0 * sum(case when {c} is null or trim(cast({c} as string)) = '' then 1 else 0 end)"
                                   ~ " / nullif(count(*), 0)"},
        'distinct_count': {'kind': 'any', 'zero_filled': true, 'sql': 'count(distinct {c})'},
        'distinct_percent': {'kind': 'any', 'zero_filled': false,
                             'sql': '100.0 * count(distinct {c}) / nullif(count({c}), 0)'},
        'min': {'kind': 'numeric', 'zero_filled': false, 'sql': 'min(cast({c} as double))'},
        'max': {'kind': 'numeric', 'zero_filled': false, 'sql': 'max(cast({c} as double))'},
        'average': {'kind': 'numeric', 'zero_filled': false, 'sql': 'avg(cast({c} as double))'},
        'sum': {'kind': 'numeric', 'zero_filled': true, 'sql': 'sum(cast({c} as double))'},
        'standard_deviation': {'kind': 'numeric', 'zero_filled': false, 'sql': 'stddev_samp(cast({c} as double))'},
        'variance': {'kind': 'numeric', 'zero_filled': false, 'sql': 'var_samp(cast({c} as double))'},
        'zero_count': {'kind': 'numeric', 'zero_filled': true,
                       'sql': 'sum(case when cast({c} as double) = 0 then 1 else 0 end)'},
        'zero_percent': {'kind': 'numeric', 'zero_filled': false,
                         'sql': '100.0 * sum(case when cast({c} as double) = 0 then 1 else 0 end) / nullif(count(*), 0)'},
        'min_length': {'kind': 'string', 'zero_filled': false, 'sql': 'min(length({c}))'},
        'max_length': {'kind': 'string', 'zero_filled': false, 'sql': 'max(length({c}))'},
        'average_length': {'kind': 'string', 'zero_filled': false, 'sql': 'avg(length({c}))'},
    }) }}
{% endmacro %}


{% macro observability_timestamp_sql(column) %}
    {{ return('cast(' ~ column ~ ' as timestamp)') }}
{% endmacro %}


{% macro observability_where_sql(settings) %}
    {{ return(('and (' ~ settings['where_expression'] ~ ')') if settings['where_expression'] else '') }}
{% endmacro %}


{#- Rows of the monitored relation inside the buckets being computed. -#}
{% macro observability_in_window_sql(timestamp_column, settings) %}
    {%- set ts = lakehouse_observability.observability_timestamp_sql(timestamp_column) -%}
    {{ return(ts ~ ' >= (select compute_from from window_bounds) and ' ~ ts
              ~ ' < (select detection_end from window_bounds) ' ~ lakehouse_observability.observability_where_sql(settings)) }}
{% endmacro %}


{% macro observability_dimension_sql(dimensions) %}
    {%- set parts = [] -%}
    {%- for dimension in dimensions -%}
        {%- do parts.append("coalesce(cast(" ~ dimension ~ " as string), 'null')") -%}
    {%- endfor -%}
    {{ return("concat_ws(' | ', " ~ (parts | join(', ')) ~ ")") }}
{% endmacro %}


{% macro observability_metric_ctes(model, monitor, settings, bucketed) %}
    {%- set kind = monitor['kind'] -%}
    {%- set ts_column = monitor['timestamp_column'] -%}
    {%- if bucketed -%}
        {%- set floor = lakehouse_observability.observability_bucket_floor(lakehouse_observability.observability_timestamp_sql(ts_column), settings['time_bucket']) -%}
        buckets as (
            {{ lakehouse_observability.observability_buckets_sql(settings) }}
        ),
    {% endif -%}

    {%- if kind == 'volume' and bucketed %}
        measured as (
            select {{ floor }} as bucket_start, count(*) as row_count
            from {{ model }}
            where {{ lakehouse_observability.observability_in_window_sql(ts_column, settings) }}
            group by 1
        ),

        monitored_metrics as (
            select
                'row_count' as metric_name,
                cast(null as string) as dimension_value,
                buckets.bucket_start,
                buckets.bucket_end,
                cast(coalesce(measured.row_count, 0) as double) as metric_value
            from buckets
            left join measured on measured.bucket_start = buckets.bucket_start
        )
    {%- elif kind == 'volume' %}
        monitored_metrics as (
            select
                'row_count' as metric_name,
                cast(null as string) as dimension_value,
                (select detection_start from bounds) as bucket_start,
                (select detection_end from bounds) as bucket_end,
                cast(count(*) as double) as metric_value
            from {{ model }}
            where true {{ lakehouse_observability.observability_where_sql(settings) }}
        )

    {%- elif kind == 'freshness' %}
        {%- set ts = lakehouse_observability.observability_timestamp_sql(ts_column) %}
        measured as (
            select {{ floor }} as bucket_start, max({{ ts }}) as latest_at
            from {{ model }}
            where {{ lakehouse_observability.observability_in_window_sql(ts_column, settings) }}
            group by 1
        ),

        earlier as (
            select max({{ ts }}) as latest_at
            from {{ model }}
            where {{ ts }} < (select compute_from from window_bounds) {{ lakehouse_observability.observability_where_sql(settings) }}
        ),

        monitored_metrics as (
            -- seconds from the newest row so far to the end of each bucket: how stale the table was then
            select
                'freshness' as metric_name,
                cast(null as string) as dimension_value,
                buckets.bucket_start,
                buckets.bucket_end,
                cast(
                    unix_seconds(buckets.bucket_end) - unix_seconds(greatest(
                        max(measured.latest_at) over (
                            order by buckets.bucket_start rows between unbounded preceding and current row
                        ),
                        (select latest_at from earlier)
                    )) as double
                ) as metric_value
            from buckets
            left join measured on measured.bucket_start = buckets.bucket_start
        )

    {%- elif kind == 'event_freshness' and bucketed %}
        {%- set event_ts = lakehouse_observability.observability_timestamp_sql(monitor['event_timestamp_column']) %}
        {%- set update_ts = lakehouse_observability.observability_timestamp_sql(ts_column) %}
        measured as (
            select
                {{ floor }} as bucket_start,
                max(unix_seconds({{ update_ts }}) - unix_seconds({{ event_ts }})) as lag_seconds
            from {{ model }}
            where {{ lakehouse_observability.observability_in_window_sql(ts_column, settings) }}
            group by 1
        ),

        monitored_metrics as (
            select
                'event_freshness' as metric_name,
                cast(null as string) as dimension_value,
                buckets.bucket_start,
                buckets.bucket_end,
                cast(measured.lag_seconds as double) as metric_value
            from buckets
            left join measured on measured.bucket_start = buckets.bucket_start
        )
    {%- elif kind == 'event_freshness' %}
        monitored_metrics as (
            -- no load time column: how far the newest event lags behind now
            select
                'event_freshness' as metric_name,
                cast(null as string) as dimension_value,
                (select detection_start from bounds) as bucket_start,
                (select detection_end from bounds) as bucket_end,
                cast(
                    unix_seconds({{ lakehouse_observability.observability_as_of_literal() }})
                    - unix_seconds(max({{ lakehouse_observability.observability_timestamp_sql(monitor['event_timestamp_column']) }}))
                    as double
                ) as metric_value
            from {{ model }}
            where true {{ lakehouse_observability.observability_where_sql(settings) }}
        )

    {%- elif kind == 'dimension' %}
        {%- set dimension_value = lakehouse_observability.observability_dimension_sql(monitor['dimensions']) %}
        {%- if bucketed %}
        dimension_values as (
            -- every value seen over the training period, so one that stops arriving counts as 0
            select distinct {{ dimension_value }} as dimension_value
            from {{ model }}
            where
                {{ lakehouse_observability.observability_timestamp_sql(ts_column) }} >= (select training_start from window_bounds)
                and {{ lakehouse_observability.observability_timestamp_sql(ts_column) }} < (select detection_end from window_bounds)
                {{ lakehouse_observability.observability_where_sql(settings) }}
        ),

        measured as (
            select {{ floor }} as bucket_start, {{ dimension_value }} as dimension_value, count(*) as row_count
            from {{ model }}
            where {{ lakehouse_observability.observability_in_window_sql(ts_column, settings) }}
            group by 1, 2
        ),

        monitored_metrics as (
            select
                'row_count' as metric_name,
                dimension_values.dimension_value,
                buckets.bucket_start,
                buckets.bucket_end,
                cast(coalesce(measured.row_count, 0) as double) as metric_value
            from buckets
            cross join dimension_values
            left join measured
                on
                    measured.bucket_start = buckets.bucket_start
                    and measured.dimension_value = dimension_values.dimension_value
        )
        {%- else %}
        monitored_metrics as (
            select
                'row_count' as metric_name,
                {{ dimension_value }} as dimension_value,
                (select detection_start from bounds) as bucket_start,
                (select detection_end from bounds) as bucket_end,
                cast(count(*) as double) as metric_value
            from {{ model }}
            where true {{ lakehouse_observability.observability_where_sql(settings) }}
            group by 2
        )
        {%- endif %}

    {%- elif kind == 'column' %}
        {%- set specs = lakehouse_observability.observability_column_metric_specs() %}
        {%- set column = monitor['column_name'] %}
        measured as (
            select
                {%- if bucketed %}
                {{ floor }} as bucket_start,
                {%- endif %}
                {%- for metric_name in monitor['metric_names'] %}
                {{ specs[metric_name]['sql'] | replace('{c}', column) }} as metric_{{ loop.index }}{{ ',' if not loop.last }}
                {%- endfor %}
            from {{ model }}
            where
                {%- if bucketed %}
                {{ lakehouse_observability.observability_in_window_sql(ts_column, settings) }}
            group by 1
                {%- else %}
                true {{ lakehouse_observability.observability_where_sql(settings) }}
                {%- endif %}
        ),

        measured_buckets as (
            select
                {%- if bucketed %}
                buckets.bucket_start,
                buckets.bucket_end,
                {%- else %}
                (select detection_start from bounds) as bucket_start,
                (select detection_end from bounds) as bucket_end,
                {%- endif %}
                {%- for metric_name in monitor['metric_names'] %}
                {%- if specs[metric_name]['zero_filled'] %}
                cast(coalesce(measured.metric_{{ loop.index }}, 0) as double) as metric_{{ loop.index }}
                {%- else %}
                cast(measured.metric_{{ loop.index }} as double) as metric_{{ loop.index }}
                {%- endif %}{{ ',' if not loop.last }}
                {%- endfor %}
            {%- if bucketed %}
            from buckets
            left join measured on measured.bucket_start = buckets.bucket_start
            {%- else %}
            from measured
            {%- endif %}
        ),

        monitored_metrics as (
            select
                metric_list.metric_name,
                cast(null as string) as dimension_value,
                measured_buckets.bucket_start,
                measured_buckets.bucket_end,
                metric_list.metric_value
            from measured_buckets
            lateral view stack(
                {{ monitor['metric_names'] | length }},
                {%- for metric_name in monitor['metric_names'] %}
                '{{ metric_name }}', metric_{{ loop.index }}{{ ',' if not loop.last }}
                {%- endfor %}
            ) metric_list as metric_name, metric_value
        )
    {%- else %}
        {{ exceptions.raise_compiler_error("unknown anomaly monitor " ~ kind) }}
    {%- endif %}
{% endmacro %}


{#-
    column_anomalies' metrics, checked against the column: its type must suit each metric, and on a
    column marked as personal data (meta pii / classification pii or restricted) only counts are
    allowed: a min, max or average of salaries is someone's salary, written where anyone reads.
-#}
{% macro observability_check_column_metrics(relation, column_name, metric_names) %}
    {%- set specs = lakehouse_observability.observability_column_metric_specs() -%}
    {%- for metric_name in metric_names if metric_name not in specs -%}
        {{ exceptions.raise_compiler_error("column_anomalies: unknown metric '" ~ metric_name ~ "' on " ~ column_name
                                           ~ "; use some of " ~ (specs.keys() | list | join(', '))) }}
    {%- endfor -%}
    {%- set data_type = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) if column.name | lower == column_name | lower -%}
        {%- do data_type.append(column.dtype | lower) -%}
    {%- endfor -%}
    {%- if not data_type -%}
        {{ exceptions.raise_compiler_error("column_anomalies: " ~ relation ~ " has no column " ~ column_name) }}
    {%- endif -%}
    {%- set numeric = modules.re.match('^(tinyint|smallint|int|integer|bigint|long|short|byte|float|double|real|decimal)',
                                        data_type[0]) is not none -%}
    {%- set textual = modules.re.match('^(string|varchar|char)', data_type[0]) is not none -%}
    {%- set protected = lakehouse_observability.observability_column_is_protected(column_name) -%}
    {%- for metric_name in metric_names -%}
        {%- set kind = specs[metric_name]['kind'] -%}
        {%- if (kind == 'numeric' and not numeric) or (kind == 'string' and not textual) -%}
            {{ exceptions.raise_compiler_error("column_anomalies: " ~ metric_name ~ " needs a " ~ kind ~ " column; "
                                               ~ column_name ~ " is " ~ data_type[0]) }}
        {%- endif -%}
        {%- if protected and kind == 'numeric' -%}
            {{ exceptions.raise_compiler_error(
                "column_anomalies: " ~ column_name ~ " is personal data (meta pii/classification); " ~ metric_name
                ~ " would copy its values into the observability tables. Monitor counts instead "
                ~ "(null_count, null_percent, distinct_count, missing_percent)") }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}


{#-
    Is `column_name` of the tested model or source personal data: marked so itself, or in a model
    classified restricted or pii as a whole (HR, payroll)?
-#}
{% macro observability_column_is_protected(column_name) %}
    {%- set tested = lakehouse_observability.observability_graph_node(lakehouse_observability.observability_tested_node_id(lakehouse_observability.observability_current_node())) -%}
    {%- set classes = lakehouse_observability.observability_column_classes([tested.get('unique_id')]) -%}
    {{ return((column_name | lower) in classes['protected'] or classes['restricted']) }}
{% endmacro %}
