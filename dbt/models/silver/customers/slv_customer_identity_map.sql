{{
    config(
        unique_key=['source_system', 'source_record_id'],
        pre_hook="{{ build_customer_match_keys(this ~ '__match_keys') }}",
        post_hook="drop table if exists {{ this }}__match_keys",
    )
}}

{#-
    Identity resolution: which customer each source record belongs to.

    Records are linked when they share a match key, in order of strength:
      1. the normalised email (lower(trim)), the key every system has;
      2. the app user id, which Stripe keeps in customer metadata (links Stripe customers whose
         billing email differs from their account email);
      3. the normalised phone together with the last name, for records with no or a different email
         (legacy records without email, HubSpot contacts without email).
    Linked records form a customer (connected components, by min-label propagation). The customer's
    key is derived from its anchor record, the earliest created (ties: CRM, app, shop, billing, ERP),
    so it stays the same as records are added and a rebuild gives the same keys.

    The match keys are defined in macros/silver/customer_identity.sql. An incremental build resolves
    only the records it must: those loaded since the last build, and every record of a customer that
    one of them belonged to (it may have left, splitting the customer) or now shares a match key with
    (it may join it, or merge two). Those records form whole components, so resolving them alone gives
    what resolving every record would; every other row of the map stays as it is. Their keys are
    written once into a work table by the pre-hook (dropped by the post-hook): the label propagation
    below reads them twelve times, and Spark would otherwise compute the scoping joins for each read.
-#}

{%- set iterations = 6 -%}

with records as (

    select
        *,
        concat(source_system, ':', source_record_id) as record_key,
        -- the anchor is the earliest record; on a tie, the system most likely to have seen the person first
        case source_system
            when 'hubspot.contacts' then 1
            when 'salesforce.leads' then 2
            when 'salesforce.accounts' then 3
            when 'postgres.users' then 4
            when 'mysql.customer_data' then 5
            when 'shopify.customers' then 6
            when 'stripe.customers' then 7
            when 'netsuite.customers' then 8
        end as anchor_priority
    from {{ ref('int_customer_source_records') }}

),

match_keys as (

    {% if is_incremental() %}
        -- written by the pre-hook: see the header
        select
            record_key,
            match_key
        from {{ this }}__match_keys
    {% else %}
        {{ customer_match_keys() }}
    {% endif %}

),

scoped_records as (

    select records.*
    from records
    left semi join match_keys
        on records.record_key = match_keys.record_key

),

labels_0 as (

    select
        record_key,
        record_key as component
    from scoped_records

),

{% for i in range(1, iterations + 1) %}
    key_labels_{{ i }} as (

        select
            match_keys.match_key,
            min(labels_{{ i - 1 }}.component) as component
        from match_keys
        inner join labels_{{ i - 1 }}
            on match_keys.record_key = labels_{{ i - 1 }}.record_key
        group by match_keys.match_key

    ),

    labels_{{ i }} as (

        select
            match_keys.record_key,
            min(key_labels_{{ i }}.component) as component
        from match_keys
        inner join key_labels_{{ i }}
            on match_keys.match_key = key_labels_{{ i }}.match_key
        group by match_keys.record_key

    ),

{% endfor %}
components as (

    select
        scoped_records.*,
        labels_{{ iterations }}.component
    from scoped_records
    inner join labels_{{ iterations }}
        on scoped_records.record_key = labels_{{ iterations }}.record_key

),

anchored as (

    select
        *,
        first_value(record_key) over (
            partition by component
            order by created_at asc nulls last, anchor_priority asc, length(source_record_id) asc, source_record_id asc
        ) as anchor_record_key,
        count(*) over (partition by component, email) as records_sharing_email,
        count(*) over (partition by component, app_user_id) as records_sharing_app_user,
        count(*) over (partition by component) as component_size
    from components

),

final as (

    select
        -- keys
        source_system,
        source_record_id,
        md5(anchor_record_key) as customer_key,
        -- how the record joined its customer
        case
            when component_size = 1 then 'unmatched'
            when record_key = anchor_record_key then 'anchor'
            when email is not null and records_sharing_email > 1 then 'email'
            when app_user_id is not null and records_sharing_app_user > 1 then 'app_user_id'
            else 'phone_and_last_name'
        end as match_rule,
        anchor_record_key = record_key as is_anchor,
        email as email_hash,
        is_deleted,
        -- dates
        created_at,
        updated_at,
        -- audit
        _loaded_at
    from anchored

)

select * from final
