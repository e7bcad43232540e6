{#-
    The project's graph as rows: models, sources, tests and exposures, as the manifest has them.
    They are appended only when they changed since the last stored version (same `graph_hash`),
    so a run that changes nothing in the project writes nothing here.
-#}

{% macro observability_graph_node(unique_id) %}
    {%- if not unique_id -%}
        {{ return({}) }}
    {%- endif -%}
    {{ return(graph.nodes.get(unique_id) or graph.sources.get(unique_id) or graph.exposures.get(unique_id) or {}) }}
{% endmacro %}


{#- `meta` of a graph node (a dict), config meta winning over the older top-level meta. -#}
{% macro observability_meta(node) %}
    {%- set merged = {} -%}
    {%- do merged.update(node.get('meta') or {}) -%}
    {%- do merged.update((node.get('config') or {}).get('meta') or {}) -%}
    {{ return(merged) }}
{% endmacro %}


{#- The owner of a node: its own `meta.owner`, else the first fallback node's (the tested model). -#}
{% macro observability_owner(node, fallback=none) %}
    {%- for candidate in [node, fallback] if candidate -%}
        {%- set owner = lakehouse_observability.observability_meta(candidate).get('owner') -%}
        {%- if owner -%}
            {{ return(owner | join(', ') if owner is iterable and owner is not string else owner | string) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{% endmacro %}


{#- The model (or source) a test is attached to. Works on graph dicts and on result nodes. -#}
{% macro observability_tested_node_id(test) %}
    {%- set attached = test.get('attached_node') if test is mapping else test.attached_node -%}
    {%- if attached -%}
        {{ return(attached) }}
    {%- endif -%}
    {%- set depends_on = test.get('depends_on', {}).get('nodes', []) if test is mapping else test.depends_on.nodes -%}
    {{ return(depends_on | first if depends_on else none) }}
{% endmacro %}


{% macro observability_columns_json(node) %}
    {%- set columns = [] -%}
    {%- for column in (node.get('columns') or {}).values() -%}
        {%- do columns.append({
            'name': column.get('name'),
            'description': column.get('description') or '',
            'data_type': column.get('data_type'),
            'meta': lakehouse_observability.observability_meta(column),
        }) -%}
    {%- endfor -%}
    {{ return(lakehouse_observability.observability_to_json(columns)) }}
{% endmacro %}


{% macro observability_graph_rows(now) %}
    {%- set models = [] -%}
    {%- set tests = [] -%}
    {%- set sources = [] -%}
    {%- set exposures = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- set config = node.get('config') or {} -%}
        {%- if node.resource_type == 'model' -%}
            {%- do models.append({
                'unique_id': node.unique_id,
                'name': node.name,
                'package_name': node.package_name,
                'relation_name': node.get('relation_name'),
                'schema_name': node.schema,
                'alias': node.get('alias'),
                'materialization': config.get('materialized'),
                'original_path': node.original_file_path,
                'description': node.get('description') or '',
                'owner': lakehouse_observability.observability_owner(node),
                'tags': lakehouse_observability.observability_to_json(node.get('tags') or []),
                'meta': lakehouse_observability.observability_to_json(lakehouse_observability.observability_meta(node)),
                'columns': lakehouse_observability.observability_columns_json(node),
                'depends_on': lakehouse_observability.observability_to_json(node.get('depends_on', {}).get('nodes', [])),
                'access': node.get('access') | string if node.get('access') else none,
                'contract_enforced': (config.get('contract') or {}).get('enforced', false),
                'checksum': (node.get('checksum') or {}).get('checksum'),
            }) -%}
        {%- elif node.resource_type == 'test' -%}
            {%- set metadata = node.get('test_metadata') or {} -%}
            {%- set kwargs = {} -%}
            {%- for key, value in (metadata.get('kwargs') or {}).items() if key not in ['model', 'column_name'] -%}
                {%- do kwargs.update({key: value}) -%}
            {%- endfor -%}
            {%- set model_id = lakehouse_observability.observability_tested_node_id(node) -%}
            {%- do tests.append({
                'unique_id': node.unique_id,
                'name': node.name,
                'short_name': metadata.get('name') or node.name,
                'test_namespace': metadata.get('namespace'),
                'test_type': 'generic' if metadata else 'singular',
                'model_unique_id': model_id,
                'column_name': node.get('column_name'),
                'kwargs': lakehouse_observability.observability_to_json(kwargs),
                'severity': config.get('severity') | string,
                'owner': lakehouse_observability.observability_owner(node, lakehouse_observability.observability_graph_node(model_id)),
                'tags': lakehouse_observability.observability_to_json(node.get('tags') or []),
                'depends_on': lakehouse_observability.observability_to_json(node.get('depends_on', {}).get('nodes', [])),
                'description': node.get('description') or '',
                'original_path': node.original_file_path,
            }) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- for node in graph.sources.values() -%}
        {%- set freshness = node.get('freshness') or {} -%}
        {%- do sources.append({
            'unique_id': node.unique_id,
            'name': node.name,
            'source_name': node.source_name,
            'relation_name': node.get('relation_name'),
            'loaded_at_field': node.get('loaded_at_field'),
            'warn_after': lakehouse_observability.observability_freshness_threshold(freshness.get('warn_after')),
            'error_after': lakehouse_observability.observability_freshness_threshold(freshness.get('error_after')),
            'owner': lakehouse_observability.observability_owner(node, {'meta': node.get('source_meta') or {}}),
            'description': node.get('description') or '',
            'tags': lakehouse_observability.observability_to_json(node.get('tags') or []),
            'meta': lakehouse_observability.observability_to_json(lakehouse_observability.observability_meta(node)),
            'columns': lakehouse_observability.observability_columns_json(node),
            'original_path': node.original_file_path,
        }) -%}
    {%- endfor -%}
    {%- for node in graph.exposures.values() -%}
        {%- set owner = node.get('owner') or {} -%}
        {%- do exposures.append({
            'unique_id': node.unique_id,
            'name': node.name,
            'label': node.get('label'),
            'exposure_type': node.get('type') | string,
            'maturity': node.get('maturity') | string if node.get('maturity') else none,
            'owner_name': owner.get('name'),
            'owner_email': owner.get('email'),
            'url': node.get('url'),
            'description': node.get('description') or '',
            'depends_on': lakehouse_observability.observability_to_json(node.get('depends_on', {}).get('nodes', [])),
            'tags': lakehouse_observability.observability_to_json(node.get('tags') or []),
            'original_path': node.original_file_path,
        }) -%}
    {%- endfor -%}
    {%- set tables = {'dbt_models': models, 'dbt_tests': tests, 'dbt_sources': sources, 'dbt_exposures': exposures} -%}
    {%- set graph_hash = local_md5(lakehouse_observability.observability_to_json(tables) or '') -%}
    {%- for rows in tables.values() -%}
        {%- for row in rows -%}
            {%- do row.update({'graph_hash': graph_hash, 'generated_at': now}) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({'graph_hash': graph_hash, 'tables': tables}) }}
{% endmacro %}


{#- Append each graph table whose current version (graph_hash) is not stored yet; returns counts. -#}
{% macro observability_write_graph(writable, artifacts) %}
    {%- set pending = [] -%}
    {%- for table, rows in artifacts['tables'].items() if rows and writable.get(table) is not none -%}
        {%- do pending.append(table) -%}
    {%- endfor -%}
    {%- if not pending -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set probes = [] -%}
    {%- for table in pending -%}
        {%- do probes.append("select '" ~ table ~ "' as table_name, count(*) as stored from " ~ writable[table]
                             ~ " where graph_hash = '" ~ artifacts['graph_hash'] ~ "'") -%}
    {%- endfor -%}
    {%- set stored = {} -%}
    {%- for row in run_query(probes | join('\nunion all\n')).rows -%}
        {%- do stored.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set written = {} -%}
    {%- for table in pending if not stored.get(table) -%}
        {%- do written.update({table: lakehouse_observability.observability_write(writable, table, artifacts['tables'][table])}) -%}
    {%- endfor -%}
    {{ return(written) }}
{% endmacro %}
