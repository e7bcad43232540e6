{#-
    The match keys of identity resolution (slv_customer_identity_map): a `select` of one row per
    (record_key, match_key). Every record has its own `self:` key, plus its normalised email, its app
    user id, and its normalised phone with its last name, when it has them.

    A full build takes every record. An incremental build takes only the records whose customer can
    change: those loaded since the map's last build (per source system, as in loaded_since_last_build;
    in a backfill, those loaded in its window), and every record of a customer that one of them belonged
    to or now shares a key with.
-#}
{% macro customer_match_keys() -%}
    with records as (

        select
            concat(source_system, ':', source_record_id) as record_key,
            source_system,
            email,
            app_user_id,
            phone,
            last_name,
            _loaded_at
        from {{ ref('int_customer_source_records') }}

    ),

    all_match_keys as (

        select record_key, concat('self:', record_key) as match_key from records
        union all
        select record_key, concat('email:', email) from records where email is not null
        union all
        select record_key, concat('app_user:', app_user_id) from records where app_user_id is not null
        union all
        select record_key, concat('phone:', phone, ':', last_name) from records
        where phone is not null and last_name is not null

    )

    {%- if is_incremental() %}
    {%- set window = backfill_window() %},

    previous as (

        select concat(source_system, ':', source_record_id) as record_key, customer_key
        from {{ this }}

    ),

    touched as (

        select records.record_key
        from records
        {%- if window %}
        where records._loaded_at >= timestamp '{{ window[0] }}' and records._loaded_at < timestamp '{{ window[1] }}'
        {%- else %}
        left join (
            -- one watermark per source system: its records come from different bronze tables
            select source_system, max(_loaded_at) as loaded_at from {{ this }} group by source_system
        ) as watermarks
            on records.source_system = watermarks.source_system
        where watermarks.loaded_at is null or records._loaded_at > watermarks.loaded_at
        {%- endif %}

    ),

    affected_customers as (

        -- the customer a touched record belonged to, and every customer it now shares a match key with
        select previous.customer_key
        from previous
        inner join touched on previous.record_key = touched.record_key
        union
        select previous.customer_key
        from touched
        inner join all_match_keys as touched_keys on touched.record_key = touched_keys.record_key
        inner join all_match_keys as linked_keys on touched_keys.match_key = linked_keys.match_key
        inner join previous on linked_keys.record_key = previous.record_key

    ),

    in_scope as (

        select previous.record_key
        from previous
        left semi join affected_customers on previous.customer_key = affected_customers.customer_key
        union
        select record_key from touched

    )

    select all_match_keys.*
    from all_match_keys
    left semi join in_scope on all_match_keys.record_key = in_scope.record_key
    {%- else %}

    select * from all_match_keys
    {%- endif %}
{%- endmacro %}


{#-
    The pre-hook of slv_customer_identity_map: in an incremental build, writes its match keys into the
    work table `relation` (the post-hook drops it). The label propagation reads the keys twelve times,
    and Spark would compute the scoping joins again for each read. (A Spark `CACHE TABLE` would be
    lighter, but Spark does not match this query's plan to its cache.) A full build reads its keys
    straight from int_customer_source_records, which Spark plans faster than twelve reads of a table.
-#}
{% macro build_customer_match_keys(relation) -%}
    {%- if is_incremental() -%}
        create or replace table {{ relation }} using delta as {{ customer_match_keys() }}
    {%- else -%}
        drop table if exists {{ relation }}
    {%- endif -%}
{%- endmacro %}
