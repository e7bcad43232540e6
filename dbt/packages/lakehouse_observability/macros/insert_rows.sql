{#-
    Writing rows from Jinja: `insert into ... (columns) values (...)` in batches, every value rendered
    as a Spark SQL literal of its column's type. Strings are escaped for Spark's parser (backslashes
    and quotes) and cut to a bounded length, so no message, kwarg or sample can break the statement.
-#}

{% macro observability_literal(value, data_type) %}
    {%- if value is none or value is undefined -%}
        {{ return('null') }}
    {%- elif data_type == 'string' -%}
        {%- set text = value if value is string else (value | string) -%}
        {%- set limit = var('observability_max_text_length', 20000) | int -%}
        {%- if text | length > limit -%}
            {%- set text = text[:limit] ~ '…[truncated]' -%}
        {%- endif -%}
        {{ return("'" ~ (text | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'") }}
    {%- elif data_type == 'boolean' -%}
        {{ return('true' if value else 'false') }}
    {%- elif data_type == 'bigint' -%}
        {{ return(value | int | string) }}
    {%- elif data_type == 'double' -%}
        {%- set number = value | float -%}
        {#- NaN and infinities have no literal: store nothing rather than break the insert -#}
        {%- if (number | string) in ['nan', 'inf', '-inf'] -%}
            {{ return('null') }}
        {%- endif -%}
        {{ return('cast(' ~ (number | string) ~ ' as double)') }}
    {%- elif data_type == 'timestamp' -%}
        {{ return(lakehouse_observability.observability_timestamp_literal(value)) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error("observability_literal: unsupported type " ~ data_type) }}
    {%- endif -%}
{% endmacro %}


{#- A datetime (naive UTC or aware) or an ISO string, as a Spark timestamp (the session runs in UTC). -#}
{% macro observability_timestamp_literal(value) %}
    {%- if value is none or value is undefined -%}
        {{ return('null') }}
    {%- elif value is string -%}
        {{ return("to_timestamp('" ~ (value | replace("'", "") | replace('T', ' ') | replace('Z', '')) ~ "')") }}
    {%- else -%}
        {%- set utc = value.astimezone(modules.pytz.utc) if value.tzinfo else value -%}
        {{ return("to_timestamp('" ~ utc.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "')") }}
    {%- endif -%}
{% endmacro %}


{% macro observability_insert_rows(relation, table, rows) %}
    {%- if not rows -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set columns = lakehouse_observability.observability_table_columns(table) -%}
    {%- set names = columns | map(attribute=0) | join(', ') -%}
    {%- set batch_size = var('observability_insert_batch_size', 200) | int -%}
    {%- for batch in rows | batch(batch_size) -%}
        {%- set tuples = [] -%}
        {%- for row in batch -%}
            {%- set values = [] -%}
            {%- for column in columns -%}
                {%- do values.append(lakehouse_observability.observability_literal(row.get(column[0]), column[1])) -%}
            {%- endfor -%}
            {%- do tuples.append('(' ~ (values | join(', ')) ~ ')') -%}
        {%- endfor -%}
        {%- do run_query('insert into ' ~ relation ~ ' (' ~ names ~ ') values\n' ~ (tuples | join(',\n'))) -%}
    {%- endfor -%}
    {{ return(rows | length) }}
{% endmacro %}


{#-
    `value` as JSON text. dbt's `tojson` fails on dates and decimals (YAML dates in test arguments,
    numbers from a query); those are written as strings.
-#}
{% macro observability_to_json(value) %}
    {{ return(tojson(lakehouse_observability.observability_jsonable(value), sort_keys=true)) }}
{% endmacro %}


{% macro observability_jsonable(value) %}
    {%- if value is none or value is undefined -%}
        {{ return(none) }}
    {%- elif value is string or value is boolean or value is integer or value is float -%}
        {{ return(value) }}
    {%- elif value is mapping -%}
        {%- set converted = {} -%}
        {%- for key, item in value.items() -%}
            {%- do converted.update({key | string: lakehouse_observability.observability_jsonable(item)}) -%}
        {%- endfor -%}
        {{ return(converted) }}
    {%- elif value is iterable -%}
        {%- set converted = [] -%}
        {%- for item in value -%}
            {%- do converted.append(lakehouse_observability.observability_jsonable(item)) -%}
        {%- endfor -%}
        {{ return(converted) }}
    {%- else -%}
        {{ return(value | string) }}
    {%- endif -%}
{% endmacro %}
