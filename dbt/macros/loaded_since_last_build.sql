{#-
    The incremental filter every silver model shares: only the rows of one upstream relation loaded
    after that relation's watermark, the newest load time of that relation this model already holds.

    The watermark is per upstream relation. Within one bronze table, `_loaded_at` grows with commit
    order, so every row of that table with `_loaded_at` up to the newest value a build read was in that
    build's snapshot; across tables nothing orders the stamps (a batch of B can commit after a build with
    a `_loaded_at` earlier than A's newest). A model reading several relations therefore says, for each,
    which of its own rows came from that relation (`watermark_rows`, e.g. {'source_system': 'mixpanel'}
    for a union) or which of its columns records that relation's load time (`watermark_column`, e.g.
    `_hubspot_loaded_at` for a join). A watermark that comes out too low (rows filtered out, a deleted
    row) only makes the next build read rows again, which the merge absorbs; it is never too high.

    Renders nothing on a first build or a full refresh, or while the model has no `watermark_column`
    yet (built before the column existed: every row is read once, and the merge adds the column); with
    no watermark yet (the relation never reached this model), every row is read. A model calling the macro more than once without a
    distinct watermark per call fails to compile.

    A backfill (`--vars '{backfill_start: ..., backfill_end: ...}'`, one day per run of the scheduler's
    `backfill_loaded_days` job) reads instead the rows loaded in [backfill_start, backfill_end) that the
    model has already read (up to the watermark): those rows are merged again through today's logic,
    and the watermark does not move, so rows loaded since the last build are left to the next build.
-#}
{% macro loaded_since_last_build(source_alias=none, column='_loaded_at', watermark_column='_loaded_at', watermark_rows=none) -%}
    {%- do check_one_watermark_per_relation(watermark_column, watermark_rows) -%}
    {%- set window = backfill_window() -%}
    {%- if is_incremental() and watermark_column_exists(watermark_column) -%}
        {%- set loaded = (source_alias ~ '.' if source_alias else '') ~ column -%}
        {%- set watermark -%}
        coalesce(
            (
                select max(current_rows.{{ watermark_column }})
                from {{ this }} as current_rows
                {%- if watermark_rows %}
                where
                    {% for name, value in watermark_rows.items() -%}
                    current_rows.{{ name }} = '{{ value }}'{{ ' and ' if not loop.last }}
                    {%- endfor %}
                {%- endif %}
            ),
            timestamp '0001-01-01 00:00:00'
        )
        {%- endset -%}
        {%- if window %}
        where
            {{ loaded }} >= timestamp '{{ window[0] }}'
            and {{ loaded }} < timestamp '{{ window[1] }}'
            and {{ loaded }} <= {{ watermark }}
        {%- else %}
        where {{ loaded }} > {{ watermark }}
        {%- endif %}
    {%- endif -%}
{%- endmacro %}


{#- The backfill window of this invocation, [start, end) as timestamp literals, or none (see above). -#}
{% macro backfill_window() -%}
    {%- set window_start, window_end = var('backfill_start', none), var('backfill_end', none) -%}
    {%- if window_start is none and window_end is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set pattern = '^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)?(Z|[+-][0-9]{2}:[0-9]{2})?$' -%}
    {%- for value in [window_start, window_end] -%}
        {%- if value is none or not modules.re.match(pattern, value | string) -%}
            {{ exceptions.raise_compiler_error(
                "backfill_start and backfill_end must both be set, as dates or ISO timestamps "
                ~ "(e.g. 2026-03-01T00:00:00+00:00); got backfill_start=" ~ window_start ~ ", backfill_end=" ~ window_end) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return([window_start | string, window_end | string]) }}
{%- endmacro %}


{#- A model that reads several relations must give each call its own watermark (see above). -#}
{% macro check_one_watermark_per_relation(watermark_column, watermark_rows) -%}
    {%- if execute and model is defined and model.raw_code is defined -%}
        {%- set calls = model.raw_code.count('loaded_since_last_build(') -%}
        {%- if calls > 1 and watermark_column == '_loaded_at' and not watermark_rows -%}
            {{ exceptions.raise_compiler_error(
                model.name ~ " calls loaded_since_last_build " ~ calls ~ " times, and one call has no watermark of its "
                ~ "own: a batch of one relation committed late, with an earlier _loaded_at than another relation's "
                ~ "newest, would be skipped. Give each call watermark_rows (which of this model's rows came from that "
                ~ "relation, e.g. {'source_system': 'mixpanel'}) or watermark_column (a column holding that "
                ~ "relation's _loaded_at).") }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Whether this model's table has `column_name` (the default `_loaded_at` is assumed, not looked up). -#}
{% macro watermark_column_exists(column_name) -%}
    {%- if column_name == '_loaded_at' -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set existing = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column_name | lower in existing) }}
{%- endmacro %}
