{#-
    A sample of a failing test's rows, as JSON, for the report and the alerts. Columns that the
    tested models or sources mark as personal data (`meta.pii` set, or `meta.classification` pii or
    restricted) are left out, and named in `sample_skipped_columns`. When the tested column itself
    is personal data, columns the models do not declare are left out too: a test's own output
    columns (accepted_values' `value_field`, ...) would carry its raw values. Tests on a model or
    source classified restricted or pii as a whole (model meta) get no sample at all.
-#}

{% macro observability_is_protected_column(column) %}
    {%- set meta = lakehouse_observability.observability_meta(column) -%}
    {%- set classification = (meta.get('classification') or '') | string | lower -%}
    {{ return(meta.get('pii') not in [none, false, '', 'none', 'false'] or classification in ['pii', 'restricted']) }}
{% endmacro %}


{#-
    {'protected': [...], 'declared': [...], 'restricted': bool}: lowercase column names over the given
    graph nodes, and whether one of them is classified pii or restricted as a whole.
-#}
{% macro observability_column_classes(node_ids) %}
    {%- set protected = [] -%}
    {%- set declared = [] -%}
    {%- set restricted = [] -%}
    {%- for node_id in node_ids -%}
        {%- set node = lakehouse_observability.observability_graph_node(node_id) -%}
        {%- if node and lakehouse_observability.observability_is_protected_column(node) -%}
            {%- do restricted.append(node_id) -%}
        {%- endif -%}
        {%- for column in (lakehouse_observability.observability_graph_node(node_id).get('columns') or {}).values() -%}
            {%- set name = (column.get('name') or '') | lower -%}
            {%- do declared.append(name) -%}
            {%- if lakehouse_observability.observability_is_protected_column(column) -%}
                {%- do protected.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return({'protected': protected, 'declared': declared, 'restricted': restricted | length > 0}) }}
{% endmacro %}


{% macro observability_failing_rows_sample(test_node) %}
    {%- set limit = var('observability_failing_rows_limit', 5) | int -%}
    {%- if limit <= 0 or not test_node.compiled_code -%}
        {{ return({'sample': none, 'skipped': []}) }}
    {%- endif -%}
    {%- set classes = lakehouse_observability.observability_column_classes(test_node.depends_on.nodes) -%}
    {%- if classes['restricted'] -%}
        {{ return({'sample': none, 'skipped': ['*']}) }}
    {%- endif -%}
    {%- set tested = (test_node.column_name or '') | lower -%}
    {%- set strict = tested in classes['protected'] -%}
    {%- set table = run_query('select * from (\n' ~ test_node.compiled_code ~ '\n) as failing_rows limit ' ~ limit) -%}
    {%- set kept = [] -%}
    {%- set skipped = [] -%}
    {%- for name in table.column_names -%}
        {%- if (name | lower) in classes['protected'] or (strict and (name | lower) not in classes['declared']) -%}
            {%- do skipped.append(name) -%}
        {%- else -%}
            {%- do kept.append(name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set rows = [] -%}
    {%- for row in table.rows -%}
        {%- set values = {} -%}
        {%- for name in kept -%}
            {%- do values.update({name: lakehouse_observability.observability_jsonable(row[name])}) -%}
        {%- endfor -%}
        {%- do rows.append(values) -%}
    {%- endfor -%}
    {{ return({'sample': lakehouse_observability.observability_to_json(rows), 'skipped': skipped}) }}
{% endmacro %}
