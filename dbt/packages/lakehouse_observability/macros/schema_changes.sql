{#-
    schema_changes: fails with one row per column added, removed or retyped since the columns this
    test stored last time (in `schema_columns_snapshots`). The first run stores the baseline and
    passes; a change fails the run that sees it, is recorded in `schema_change_events`, and becomes
    the new baseline, so the next run passes again unless the schema moves again.
-#}

{% test schema_changes(model) %}
    {%- set snapshots_relation = ref('schema_columns_snapshots') -%}
    {%- set events_relation = ref('schema_change_events') -%}
    {%- set empty -%}
        select
            cast(null as string) as change_type,
            cast(null as string) as column_name,
            cast(null as string) as previous_type,
            cast(null as string) as new_type
        where false
    {%- endset -%}
    {%- if lakehouse_observability.observability_disabled_for_this_run() -%}
        {#- fails with one row naming the reason, instead of passing without having compared -#}
        {%- set reason = lakehouse_observability.observability_not_evaluated_reason() -%}
        {{ return("select " ~ lakehouse_observability.observability_literal(reason, 'string') ~ " as change_type, "
                  ~ "cast(null as string) as column_name, cast(null as string) as previous_type, "
                  ~ "cast(null as string) as new_type") }}
    {%- endif -%}
    {%- if not lakehouse_observability.observability_writes_allowed() -%}
        {{ return(empty) }}
    {%- endif -%}

    {%- set test_node = lakehouse_observability.observability_current_node() -%}
    {%- set relation = lakehouse_observability.observability_tested_relation(model) -%}
    {%- set full_table_name = (relation.schema ~ '.' ~ relation.identifier) | lower -%}
    {%- set model_id = lakehouse_observability.observability_tested_node_id(test_node) -%}
    {%- do lakehouse_observability.observability_ensure_exists(snapshots_relation, 'schema_columns_snapshots') -%}
    {%- do lakehouse_observability.observability_ensure_exists(events_relation, 'schema_change_events') -%}

    {%- set current = {} -%}
    {%- set current_order = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do current.update({column.name | lower: column.dtype | lower}) -%}
        {%- do current_order.append(column.name | lower) -%}
    {%- endfor -%}
    {%- set snapshot_hash = local_md5(lakehouse_observability.observability_to_json(current)) -%}

    {%- set previous = {} -%}
    {%- set stored = run_query(
        "select column_name, data_type, snapshot_hash from " ~ snapshots_relation
        ~ " where full_table_name = '" ~ full_table_name ~ "' and detected_at = (select max(detected_at) from "
        ~ snapshots_relation ~ " where full_table_name = '" ~ full_table_name ~ "')") -%}
    {%- for row in stored.rows -%}
        {%- do previous.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set previous_hash = stored.rows[0][2] if stored.rows else none -%}

    {%- set changes = [] -%}
    {%- if previous -%}
        {%- for name in current_order -%}
            {%- if name not in previous -%}
                {%- do changes.append({'change_type': 'column_added', 'column_name': name, 'new_type': current[name]}) -%}
            {%- elif previous[name] != current[name] -%}
                {%- do changes.append({'change_type': 'type_changed', 'column_name': name,
                                       'previous_type': previous[name], 'new_type': current[name]}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for name, data_type in previous.items() if name not in current -%}
            {%- do changes.append({'change_type': 'column_removed', 'column_name': name, 'previous_type': data_type}) -%}
        {%- endfor -%}
    {%- endif -%}

    {%- set now = modules.datetime.datetime.now(modules.pytz.utc) -%}
    {%- if snapshot_hash != previous_hash and current -%}
        {%- set snapshot_rows = [] -%}
        {%- for name in current_order -%}
            {%- do snapshot_rows.append({
                'invocation_id': invocation_id, 'test_unique_id': test_node.unique_id, 'model_unique_id': model_id,
                'full_table_name': full_table_name, 'snapshot_hash': snapshot_hash, 'column_name': name,
                'data_type': current[name], 'detected_at': now,
            }) -%}
        {%- endfor -%}
        {%- do lakehouse_observability.observability_insert_rows(snapshots_relation, 'schema_columns_snapshots', snapshot_rows) -%}
    {%- endif -%}
    {%- if not changes -%}
        {{ return(empty) }}
    {%- endif -%}

    {%- set event_rows = [] -%}
    {%- for change in changes -%}
        {%- do event_rows.append({
            'invocation_id': invocation_id, 'test_unique_id': test_node.unique_id, 'model_unique_id': model_id,
            'full_table_name': full_table_name, 'change_type': change['change_type'],
            'column_name': change['column_name'], 'previous_type': change.get('previous_type'),
            'new_type': change.get('new_type'), 'detected_at': now,
        }) -%}
    {%- endfor -%}
    {%- do lakehouse_observability.observability_insert_rows(events_relation, 'schema_change_events', event_rows) -%}

    select * from values
    {%- for change in changes %}
        (
            {{ lakehouse_observability.observability_literal(change['change_type'], 'string') }},
            {{ lakehouse_observability.observability_literal(change['column_name'], 'string') }},
            {{ lakehouse_observability.observability_literal(change.get('previous_type'), 'string') }},
            {{ lakehouse_observability.observability_literal(change.get('new_type'), 'string') }}
        ){{ ',' if not loop.last }}
    {%- endfor %}
    as schema_changes (change_type, column_name, previous_type, new_type)
{% endtest %}
