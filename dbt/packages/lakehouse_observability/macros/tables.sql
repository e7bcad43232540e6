{#-
    The observability tables: what each holds, in one place. The on-run-end hook, the anomaly tests
    and the models in models/observability/ (which create the tables in the DAG, before any test
    writes to them) all take their columns from here. Tables are append-only, so concurrent writers
    (two test threads, two dbt invocations) never conflict: Delta blind appends always commit.
-#}

{% macro observability_table_specs() %}
    {%- set graph_columns = [
        ['graph_hash', 'string'], ['generated_at', 'timestamp'], ['unique_id', 'string'], ['name', 'string'],
    ] -%}
    {{ return({
        'dbt_invocations': [
            ['invocation_id', 'string'], ['command', 'string'], ['project_name', 'string'],
            ['target_name', 'string'], ['dbt_version', 'string'], ['run_started_at', 'timestamp'],
            ['run_finished_at', 'timestamp'], ['status', 'string'], ['selected', 'string'],
            ['full_refresh', 'boolean'], ['threads', 'bigint'], ['var_names', 'string'],
            ['node_count', 'bigint'], ['success_count', 'bigint'], ['error_count', 'bigint'],
            ['fail_count', 'bigint'], ['warn_count', 'bigint'], ['skipped_count', 'bigint'],
            ['graph_hash', 'string'],
        ],
        'dbt_run_results': [
            ['invocation_id', 'string'], ['unique_id', 'string'], ['name', 'string'], ['resource_type', 'string'],
            ['status', 'string'], ['execution_time', 'double'], ['rows_affected', 'bigint'], ['failures', 'bigint'],
            ['message', 'string'], ['compiled_code_hash', 'string'], ['materialization', 'string'],
            ['relation_name', 'string'], ['thread_id', 'string'], ['started_at', 'timestamp'],
            ['completed_at', 'timestamp'], ['generated_at', 'timestamp'],
        ],
        'dbt_test_results': [
            ['invocation_id', 'string'], ['test_unique_id', 'string'], ['test_name', 'string'],
            ['test_namespace', 'string'], ['test_type', 'string'], ['model_unique_id', 'string'],
            ['model_name', 'string'], ['column_name', 'string'], ['test_kwargs', 'string'], ['severity', 'string'],
            ['status', 'string'], ['failures', 'bigint'], ['message', 'string'], ['failing_rows_sample', 'string'],
            ['sample_skipped_columns', 'string'], ['owner', 'string'], ['tags', 'string'],
            ['execution_time', 'double'], ['detected_at', 'timestamp'],
        ],
        'dbt_source_freshness_results': [
            ['invocation_id', 'string'], ['unique_id', 'string'], ['source_name', 'string'],
            ['table_name', 'string'], ['relation_name', 'string'], ['loaded_at_field', 'string'],
            ['status', 'string'], ['max_loaded_at', 'timestamp'], ['snapshotted_at', 'timestamp'],
            ['age_seconds', 'double'], ['warn_after', 'string'], ['error_after', 'string'], ['message', 'string'],
            ['execution_time', 'double'], ['generated_at', 'timestamp'],
        ],
        'dbt_models': graph_columns + [
            ['package_name', 'string'], ['relation_name', 'string'], ['schema_name', 'string'],
            ['alias', 'string'], ['materialization', 'string'], ['original_path', 'string'],
            ['description', 'string'], ['owner', 'string'], ['tags', 'string'], ['meta', 'string'],
            ['columns', 'string'], ['depends_on', 'string'], ['access', 'string'],
            ['contract_enforced', 'boolean'], ['checksum', 'string'],
        ],
        'dbt_sources': graph_columns + [
            ['source_name', 'string'], ['relation_name', 'string'], ['loaded_at_field', 'string'],
            ['warn_after', 'string'], ['error_after', 'string'], ['owner', 'string'], ['description', 'string'],
            ['tags', 'string'], ['meta', 'string'], ['columns', 'string'], ['original_path', 'string'],
        ],
        'dbt_tests': graph_columns + [
            ['short_name', 'string'], ['test_namespace', 'string'], ['test_type', 'string'],
            ['model_unique_id', 'string'], ['column_name', 'string'], ['kwargs', 'string'],
            ['severity', 'string'], ['owner', 'string'], ['tags', 'string'], ['depends_on', 'string'],
            ['description', 'string'], ['original_path', 'string'],
        ],
        'dbt_exposures': graph_columns + [
            ['label', 'string'], ['exposure_type', 'string'], ['maturity', 'string'], ['owner_name', 'string'],
            ['owner_email', 'string'], ['url', 'string'], ['description', 'string'], ['depends_on', 'string'],
            ['tags', 'string'], ['original_path', 'string'],
        ],
        'data_monitoring_metrics': [
            ['metric_key', 'string'], ['metric_properties', 'string'], ['test_unique_id', 'string'],
            ['invocation_id', 'string'], ['model_unique_id', 'string'], ['full_table_name', 'string'],
            ['column_name', 'string'], ['metric_name', 'string'], ['dimension', 'string'],
            ['dimension_value', 'string'], ['bucket_start', 'timestamp'], ['bucket_end', 'timestamp'],
            ['metric_value', 'double'], ['computed_at', 'timestamp'],
        ],
        'anomaly_scores': [
            ['invocation_id', 'string'], ['test_unique_id', 'string'], ['metric_key', 'string'],
            ['model_unique_id', 'string'], ['full_table_name', 'string'], ['column_name', 'string'],
            ['metric_name', 'string'], ['dimension_value', 'string'], ['bucket_start', 'timestamp'],
            ['bucket_end', 'timestamp'], ['metric_value', 'double'], ['training_avg', 'double'],
            ['training_stddev', 'double'], ['training_set_size', 'bigint'], ['training_start', 'timestamp'],
            ['min_expected', 'double'], ['max_expected', 'double'], ['z_score', 'double'],
            ['anomaly_sensitivity', 'double'], ['anomaly_direction', 'string'], ['is_anomalous', 'boolean'],
            ['scored_at', 'timestamp'],
        ],
        'schema_columns_snapshots': [
            ['invocation_id', 'string'], ['test_unique_id', 'string'], ['model_unique_id', 'string'],
            ['full_table_name', 'string'], ['snapshot_hash', 'string'], ['column_name', 'string'],
            ['data_type', 'string'], ['detected_at', 'timestamp'],
        ],
        'schema_change_events': [
            ['invocation_id', 'string'], ['test_unique_id', 'string'], ['model_unique_id', 'string'],
            ['full_table_name', 'string'], ['change_type', 'string'], ['column_name', 'string'],
            ['previous_type', 'string'], ['new_type', 'string'], ['detected_at', 'timestamp'],
        ],
    }) }}
{% endmacro %}


{% macro observability_table_columns(table) %}
    {%- set specs = lakehouse_observability.observability_table_specs() -%}
    {%- if table not in specs -%}
        {{ exceptions.raise_compiler_error(
            "unknown observability table '" ~ table ~ "'; known: " ~ (specs.keys() | list | join(', '))) }}
    {%- endif -%}
    {{ return(specs[table]) }}
{% endmacro %}


{% macro observability_schema() %}
    {{ return(var('observability_schema', 'observability')) }}
{% endmacro %}


{% macro observability_relation(table) %}
    {{ return(api.Relation.create(schema=lakehouse_observability.observability_schema(), identifier=table, type='table')) }}
{% endmacro %}


{#- The model body of an observability table: no rows, the columns and types of the spec. -#}
{% macro observability_empty_select(table) %}
    select
    {%- for column in lakehouse_observability.observability_table_columns(table) %}
        cast(null as {{ column[1] }}) as {{ column[0] }}{{ ',' if not loop.last }}
    {%- endfor %}
    where false
{% endmacro %}


{% macro observability_create_table_sql(relation, table) %}
    create table if not exists {{ relation }} (
    {%- for column in lakehouse_observability.observability_table_columns(table) %}
        {{ column[0] }} {{ column[1] }}{{ ',' if not loop.last }}
    {%- endfor %}
    ) using delta
{% endmacro %}


{#-
    Make sure `relation` can take rows of `table`'s spec: create it when missing, add columns a newer
    spec has. Returns false, with a warning, when it cannot be written (a view, a changed column type)
    instead of failing: observability must never fail the run it observes.
-#}
{% macro observability_ensure_table(relation, table) %}
    {%- set existing = adapter.get_relation(database=relation.database, schema=relation.schema,
                                            identifier=relation.identifier) -%}
    {%- if existing is none -%}
        {%- if not adapter.check_schema_exists(relation.database, relation.schema) -%}
            {%- do adapter.create_schema(api.Relation.create(database=relation.database, schema=relation.schema)) -%}
        {%- endif -%}
        {%- do run_query(lakehouse_observability.observability_create_table_sql(relation, table)) -%}
        {%- do adapter.cache_added(relation.incorporate(type='table')) -%}
        {{ return(true) }}
    {%- endif -%}
    {%- if not existing.is_table -%}
        {%- do lakehouse_observability.observability_warn(relation ~ " is a " ~ existing.type ~ ", not a table: nothing is written to it") -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set found = {} -%}
    {%- for column in adapter.get_columns_in_relation(existing) -%}
        {%- do found.update({column.name | lower: column.dtype | lower}) -%}
    {%- endfor -%}
    {%- set missing = [] -%}
    {%- for column in lakehouse_observability.observability_table_columns(table) -%}
        {%- if column[0] not in found -%}
            {%- do missing.append(column[0] ~ ' ' ~ column[1]) -%}
        {%- elif found[column[0]] != column[1] -%}
            {%- do lakehouse_observability.observability_warn(relation ~ "." ~ column[0] ~ " is " ~ found[column[0]] ~ ", expected "
                                      ~ column[1] ~ ": nothing is written to " ~ relation
                                      ~ " (drop it and let the next run recreate it)") -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing -%}
        {%- do run_query("alter table " ~ relation ~ " add columns (" ~ (missing | join(', ')) ~ ")") -%}
    {%- endif -%}
    {{ return(true) }}
{% endmacro %}


{#- A warning in dbt's log that `--warn-error` does not turn into a failure. -#}
{% macro observability_warn(message) %}
    {%- do log("[observability] warning: " ~ message, info=true) -%}
{% endmacro %}


{#-
    Materialization of the models in models/observability/: create the table when missing and add
    columns a newer spec has. Never drops or replaces, so `--full-refresh` keeps the history.
-#}
{% materialization observability_table, adapter='spark' %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {{ run_hooks(pre_hooks) }}
    {%- set writable = lakehouse_observability.observability_ensure_table(target_relation, this.identifier) -%}
    {%- call statement('main') -%}
        describe table {{ target_relation }}
    {%- endcall -%}
    {{ run_hooks(post_hooks) }}
    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
