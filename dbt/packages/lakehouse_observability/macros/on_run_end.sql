{#-
    The on-run-end hook: what ran, how it went, and the project's graph, into the observability tables.

        on-run-end:
          - "{{ lakehouse_observability.observability_on_run_end(results) }}"

    It renders no SQL of its own (dbt runs an empty hook as a success); every write is a batched
    `insert into ... values` issued while rendering. It never fails the run it observes: tables it
    cannot write (a view in the way, a changed column type) are skipped with a warning in the log.
-#}

{% macro observability_on_run_end(results) %}
    {%- if not execute or not var('observability_enabled', true) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set command = flags.WHICH -%}
    {%- set now = modules.datetime.datetime.now(modules.pytz.utc) -%}
    {%- set writable = lakehouse_observability.observability_prepare_tables([
        'dbt_invocations', 'dbt_run_results', 'dbt_test_results', 'dbt_source_freshness_results',
        'dbt_models', 'dbt_sources', 'dbt_tests', 'dbt_exposures',
    ], results) -%}
    {%- set artifacts = lakehouse_observability.observability_graph_rows(now) -%}
    {%- set written = {} -%}

    {%- set invocation = lakehouse_observability.observability_invocation_row(results, command, now, artifacts['graph_hash']) -%}
    {%- do written.update({'dbt_invocations': lakehouse_observability.observability_write(writable, 'dbt_invocations', [invocation])}) -%}
    {%- if command == 'freshness' -%}
        {%- set freshness = lakehouse_observability.observability_freshness_rows(results, now) -%}
        {%- do written.update({
            'dbt_source_freshness_results': lakehouse_observability.observability_write(writable, 'dbt_source_freshness_results', freshness)
        }) -%}
    {%- else -%}
        {%- do written.update({
            'dbt_run_results': lakehouse_observability.observability_write(writable, 'dbt_run_results', lakehouse_observability.observability_run_result_rows(results, now)),
            'dbt_test_results': lakehouse_observability.observability_write(writable, 'dbt_test_results', lakehouse_observability.observability_test_result_rows(results, now)),
        }) -%}
    {%- endif -%}
    {%- for table, count in lakehouse_observability.observability_write_graph(writable, artifacts).items() -%}
        {%- do written.update({table: count}) -%}
    {%- endfor -%}

    {%- set summary = [] -%}
    {%- for table, count in written.items() if count -%}
        {%- do summary.append(table ~ ' ' ~ count) -%}
    {%- endfor -%}
    {%- do log("[observability] invocation " ~ invocation_id ~ " recorded in " ~ lakehouse_observability.observability_schema() ~ ": "
               ~ (summary | join(', ') or 'nothing new'), info=true) -%}
    {{ return('') }}
{% endmacro %}


{#-
    table -> its relation when it can be written, none (and a warning) when it cannot. Tables whose
    model (models/observability/) was built by this very run were checked then and are not again.
-#}
{% macro observability_prepare_tables(tables, results) %}
    {%- set built = [] -%}
    {%- for result in results if result.node.resource_type | string == 'model' and result.status | string == 'success'
                                 and result.node.config.materialized == 'observability_table'
                                 and result.node.schema == lakehouse_observability.observability_schema() -%}
        {%- do built.append(result.node.alias) -%}
    {%- endfor -%}
    {%- set writable = {} -%}
    {%- for table in tables -%}
        {%- set relation = lakehouse_observability.observability_relation(table) -%}
        {%- set usable = table in built or lakehouse_observability.observability_ensure_table(relation, table) -%}
        {%- do writable.update({table: relation if usable else none}) -%}
    {%- endfor -%}
    {{ return(writable) }}
{% endmacro %}


{% macro observability_write(writable, table, rows) %}
    {%- if writable.get(table) is none or not rows -%}
        {{ return(0) }}
    {%- endif -%}
    {{ return(lakehouse_observability.observability_insert_rows(writable[table], table, rows)) }}
{% endmacro %}


{% macro observability_status_counts(results) %}
    {%- set counts = {'success': 0, 'error': 0, 'fail': 0, 'warn': 0, 'skipped': 0} -%}
    {%- for result in results -%}
        {%- set status = result.status | string -%}
        {%- if status in ['success', 'pass', 'no-op'] -%}
            {%- set key = 'success' -%}
        {%- elif status in ['error', 'runtime error', 'partial success'] -%}
            {#- for source freshness, `error` means stale: a failed expectation, not a broken run -#}
            {%- set key = 'fail' if (status == 'error' and result.node.resource_type == 'source') else 'error' -%}
        {%- elif status in ['fail', 'warn'] -%}
            {%- set key = status -%}
        {%- else -%}
            {%- set key = 'skipped' -%}
        {%- endif -%}
        {%- do counts.update({key: counts[key] + 1}) -%}
    {%- endfor -%}
    {{ return(counts) }}
{% endmacro %}


{% macro observability_invocation_row(results, command, now, graph_hash) %}
    {%- set counts = lakehouse_observability.observability_status_counts(results) -%}
    {%- set args = invocation_args_dict -%}
    {#- var names only: a value may be a secret -#}
    {%- set cli_vars = args.get('vars') or {} -%}
    {%- set status = 'error' if counts['error'] else ('fail' if counts['fail'] else ('warn' if counts['warn'] else 'success')) -%}
    {{ return({
        'invocation_id': invocation_id,
        'command': command,
        'project_name': project_name,
        'target_name': target.name,
        'dbt_version': dbt_version,
        'run_started_at': run_started_at,
        'run_finished_at': now,
        'status': status,
        'selected': lakehouse_observability.observability_to_json({
            'select': args.get('select') | list if args.get('select') else [],
            'exclude': args.get('exclude') | list if args.get('exclude') else [],
            'selector': args.get('selector'),
            'resource_types': args.get('resource_types') | list if args.get('resource_types') else [],
        }),
        'full_refresh': flags.FULL_REFRESH,
        'threads': target.threads,
        'var_names': lakehouse_observability.observability_to_json((cli_vars.keys() | list) if cli_vars is mapping else []),
        'node_count': results | length,
        'success_count': counts['success'],
        'error_count': counts['error'],
        'fail_count': counts['fail'],
        'warn_count': counts['warn'],
        'skipped_count': counts['skipped'],
        'graph_hash': graph_hash,
    }) }}
{% endmacro %}


{% macro observability_timing(result) %}
    {%- set started = [] -%}
    {%- set completed = [] -%}
    {%- for timing in result.timing -%}
        {%- if timing.started_at -%}{%- do started.append(timing.started_at) -%}{%- endif -%}
        {%- if timing.completed_at -%}{%- do completed.append(timing.completed_at) -%}{%- endif -%}
    {%- endfor -%}
    {{ return({'started_at': started | first if started else none,
               'completed_at': completed | last if completed else none}) }}
{% endmacro %}


{% macro observability_run_result_rows(results, now) %}
    {%- set rows = [] -%}
    {%- for result in results -%}
        {%- set node = result.node -%}
        {%- set timing = lakehouse_observability.observability_timing(result) -%}
        {%- set code = node.compiled_code if node.compiled_code is defined else none -%}
        {%- do rows.append({
            'invocation_id': invocation_id,
            'unique_id': node.unique_id,
            'name': node.name,
            'resource_type': node.resource_type | string,
            'status': result.status | string,
            'execution_time': result.execution_time,
            'rows_affected': (result.adapter_response or {}).get('rows_affected'),
            'failures': result.failures,
            'message': result.message,
            'compiled_code_hash': local_md5(code) if code else none,
            'materialization': node.config.materialized if node.config is defined else none,
            'relation_name': node.relation_name if node.relation_name is defined else none,
            'thread_id': result.thread_id,
            'started_at': timing['started_at'],
            'completed_at': timing['completed_at'],
            'generated_at': now,
        }) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}


{% macro observability_test_result_rows(results, now) %}
    {%- set rows = [] -%}
    {%- set sampled = [] -%}
    {%- set max_samples = var('observability_max_failing_samples', 50) | int -%}
    {%- for result in results if result.node.resource_type | string == 'test' -%}
        {%- set node = result.node -%}
        {%- set status = result.status | string -%}
        {%- set metadata = node.test_metadata if node.test_metadata is defined else none -%}
        {%- set kwargs = {} -%}
        {%- for key, value in (metadata.kwargs if metadata else {}).items() if key not in ['model', 'column_name'] -%}
            {%- do kwargs.update({key: value}) -%}
        {%- endfor -%}
        {%- set model_id = lakehouse_observability.observability_tested_node_id(node) -%}
        {%- set sample = {'sample': none, 'skipped': []} -%}
        {%- if status in ['fail', 'warn'] and (result.failures or 0) > 0 and sampled | length < max_samples -%}
            {%- set sample = lakehouse_observability.observability_failing_rows_sample(node) -%}
            {%- do sampled.append(node.unique_id) -%}
        {%- endif -%}
        {%- set timing = lakehouse_observability.observability_timing(result) -%}
        {%- do rows.append({
            'invocation_id': invocation_id,
            'test_unique_id': node.unique_id,
            'test_name': metadata.name if metadata else node.name,
            'test_namespace': metadata.namespace if metadata else none,
            'test_type': 'generic' if metadata else 'singular',
            'model_unique_id': model_id,
            'model_name': lakehouse_observability.observability_graph_node(model_id).get('name'),
            'column_name': node.column_name if node.column_name is defined else none,
            'test_kwargs': lakehouse_observability.observability_to_json(kwargs),
            'severity': node.config.severity | string,
            'status': status,
            'failures': result.failures,
            'message': result.message,
            'failing_rows_sample': sample['sample'],
            'sample_skipped_columns': lakehouse_observability.observability_to_json(sample['skipped']) if sample['skipped'] else none,
            'owner': lakehouse_observability.observability_owner(lakehouse_observability.observability_graph_node(node.unique_id), lakehouse_observability.observability_graph_node(model_id)),
            'tags': lakehouse_observability.observability_to_json(node.tags | list),
            'execution_time': result.execution_time,
            'detected_at': timing['completed_at'] or now,
        }) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}


{% macro observability_freshness_threshold(threshold) %}
    {%- if threshold is none or threshold is undefined -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set count = threshold['count'] if threshold is mapping else threshold.count -%}
    {%- set period = threshold['period'] if threshold is mapping else threshold.period -%}
    {{ return((count ~ ' ' ~ (period | string)) if count and period else none) }}
{% endmacro %}


{% macro observability_freshness_rows(results, now) %}
    {%- set rows = [] -%}
    {%- for result in results if result.node.resource_type | string == 'source' -%}
        {%- set node = result.node -%}
        {%- set freshness = node.freshness if node.freshness is defined else none -%}
        {%- do rows.append({
            'invocation_id': invocation_id,
            'unique_id': node.unique_id,
            'source_name': node.source_name,
            'table_name': node.name,
            'relation_name': node.relation_name,
            'loaded_at_field': node.loaded_at_field,
            'status': result.status | string,
            'max_loaded_at': result.max_loaded_at if result.max_loaded_at is defined else none,
            'snapshotted_at': result.snapshotted_at if result.snapshotted_at is defined else none,
            'age_seconds': result.age if result.age is defined else none,
            'warn_after': lakehouse_observability.observability_freshness_threshold(freshness.warn_after if freshness else none),
            'error_after': lakehouse_observability.observability_freshness_threshold(freshness.error_after if freshness else none),
            'message': result.message,
            'execution_time': result.execution_time,
            'generated_at': now,
        }) -%}
    {%- endfor -%}
    {{ return(rows) }}
{% endmacro %}
