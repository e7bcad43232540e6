{#-
    PII masking, driven by column `meta` (see _pii__macros.yml).

    Hashes are salted SHA-256 over a normalised value, so the same email or phone gives the same hash in
    every model and joins still work; redacted kinds become NULL of the column's own type.
-#}

{% macro pii_salt() -%}
    {#-
        The salt as SQL: a reference to the Spark conf `lakehouse.pii_salt`, which the connection sets
        (profiles.yml `server_side_parameters`, from env LAKEHOUSE_PII_SALT) and Spark substitutes
        server-side. The salt's value is never known to dbt, so it cannot reach compiled SQL, target/
        (manifest, run results, partial parse) or the docs. A session without the conf (or with an empty
        one) fails on the first hash instead of silently hashing with the wrong salt.
    -#}
    {%- do require_pii_salt() -%}
    {%- set reference = "'${lakehouse.pii_salt}'" -%}
    {{- return(
        "if(" ~ reference ~ " in ('', concat('$', '{lakehouse.pii_salt}')), raise_error("
        ~ "'the Spark session has no lakehouse.pii_salt: connect through dbt/profiles.yml with LAKEHOUSE_PII_SALT set'"
        ~ "), " ~ reference ~ ")"
    ) -}}
{%- endmacro %}


{% macro require_pii_salt() -%}
    {#-
        Only the `local` target has a default salt (profiles.yml); any other target needs
        LAKEHOUSE_PII_SALT. Checked at execution only (`execute`), so dbt's parser never records the
        variable's value (it keeps the env vars it reads while parsing, for partial parsing).
    -#}
    {%- if execute and target.name != 'local' and not env_var('LAKEHOUSE_PII_SALT', '') -%}
        {{ exceptions.raise_compiler_error(
            "LAKEHOUSE_PII_SALT is not set: the '" ~ target.name ~ "' target has no default PII salt (only `local` has). "
            ~ "Fix: export LAKEHOUSE_PII_SALT from the environment's secret (on AWS: Secrets Manager, "
            ~ "the same value every run, or the hashes stop joining) and run again."
        ) }}
    {%- endif -%}
{%- endmacro %}


{% macro normalize_email(column_name) -%}
    lower(trim({{ column_name }}))
{%- endmacro %}


{% macro normalize_phone(column_name) -%}
    {#- Digits only; a 10-digit number is a North American number written without its +1. -#}
    case
        when length(regexp_replace({{ column_name }}, '[^0-9]', '')) = 10
            then concat('1', regexp_replace({{ column_name }}, '[^0-9]', ''))
        else nullif(regexp_replace({{ column_name }}, '[^0-9]', ''), '')
    end
{%- endmacro %}


{% macro normalize_name(column_name) -%}
    nullif(lower(regexp_replace(trim({{ column_name }}), '\\s+', ' ')), '')
{%- endmacro %}


{% macro salted_hash(normalized_expression) -%}
    sha2(concat({{ pii_salt() }}, {{ normalized_expression }}), 256)
{%- endmacro %}


{% macro pii_hashed_kinds() -%}
    {{- return(['email', 'phone', 'name', 'user_identifier']) -}}
{%- endmacro %}


{% macro pii_redacted_kinds() -%}
    {{- return(['address', 'ssn', 'salary', 'card', 'birth_date', 'free_text']) -}}
{%- endmacro %}


{% macro mask_pii(column_name, kind) -%}
    {%- if kind == 'email' -%}
        {{ salted_hash(normalize_email(column_name)) }}
    {%- elif kind == 'phone' -%}
        {{ salted_hash(normalize_phone(column_name)) }}
    {%- elif kind in ('name', 'user_identifier') -%}
        {{ salted_hash(normalize_name(column_name)) }}
    {%- elif kind in pii_redacted_kinds() -%}
        {#- `if(false, x, null)` is NULL typed like x: Delta cannot store an untyped NULL column. -#}
        if(false, {{ column_name }}, null)
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "mask_pii: unknown pii kind '" ~ kind ~ "' for " ~ column_name
            ~ "; use one of " ~ (pii_hashed_kinds() + pii_redacted_kinds()) | join(', ')
        ) }}
    {%- endif -%}
{%- endmacro %}


{% macro restricted_schemas() -%}
    {#-
        The schemas that may hold unmasked personal data: a project constant, deliberately not a var, so
        `--vars` on the command line cannot widen it. Changing it is a reviewed change to this file.
    -#}
    {{- return(['hr']) -}}
{%- endmacro %}


{% macro is_restricted_output(node=none) -%}
    {#- A model may hold unmasked PII only when it is classified restricted and lives in a restricted schema. -#}
    {%- set node = node if node is not none else model -%}
    {%- set meta = node.config.meta if node.config is defined and node.config.meta is defined else {} -%}
    {%- set schema = node.config.schema if node.config is defined else none -%}
    {{- return(
        (meta.get('classification') == 'restricted')
        and (schema in restricted_schemas())
    ) -}}
{%- endmacro %}


{% macro pii_is_unmasked(node=none) -%}
    {{- return(var('unmask_pii') | string | lower in ('true', '1', 'yes') and is_restricted_output(node)) -}}
{%- endmacro %}


{% macro masked_column(column_name, kind, alias=none, relation_alias=none) -%}
    {#- One select-list item: the column masked by its kind, or as it is in an unmasked restricted build. -#}
    {%- set reference = (relation_alias ~ '.' ~ column_name) if relation_alias else column_name -%}
    {%- set alias = alias or column_name -%}
    {%- if kind and not pii_is_unmasked() -%}
        {{ mask_pii(reference, kind) }} as {{ alias }}
    {%- elif reference != alias -%}
        {{ reference }} as {{ alias }}
    {%- else -%}
        {{ reference }}
    {%- endif -%}
{%- endmacro %}


{% macro select_masked(relation_alias=none, columns=none, indent=8) -%}
    {#-
        The select list of a model's documented columns, in YAML order, each PII column masked by the
        `pii` kind in its `meta`. `columns` (a list of names) limits the list; by default it is every
        column of the model's YAML. Must be used inside a model whose YAML documents its columns.
    -#}
    {%- set documented = model.columns.values() | list if model.columns is defined else [] -%}
    {%- if columns is not none -%}
        {%- set by_name = {} -%}
        {%- for column in documented -%}{%- do by_name.update({column.name: column}) -%}{%- endfor -%}
        {%- set selected = [] -%}
        {%- for name in columns -%}
            {%- do selected.append(by_name.get(name, {'name': name, 'meta': {}})) -%}
        {%- endfor -%}
    {%- else -%}
        {%- set selected = documented -%}
    {%- endif -%}
    {%- if not selected -%}
        {%- if execute -%}
            {{ exceptions.raise_compiler_error(
                "select_masked: " ~ model.name ~ " documents no columns; list them in its YAML with their meta"
            ) }}
        {%- endif -%}
        {{ (relation_alias ~ '.*') if relation_alias else '*' }}
    {%- else -%}
        {%- set items = [] -%}
        {%- for column in selected -%}
            {%- set meta = column.meta if column.meta is defined else column.get('meta', {}) -%}
            {#- `pseudonymised: true` marks a column already hashed upstream: hashing again would break joins. -#}
            {%- set kind = none if meta.get('pseudonymised') else meta.get('pii') -%}
            {%- do items.append(masked_column(column.name, kind, relation_alias=relation_alias)) -%}
        {%- endfor -%}
        {{ items | join(',\n' ~ ' ' * indent) }}
    {%- endif -%}
{%- endmacro %}
