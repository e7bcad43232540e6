{{
    config(
        unique_key='customer_key',
        post_hook=[
            "merge into {{ this }} as current_rows
            using (select distinct customer_key from {{ ref('slv_customer_identity_map') }}) as resolved
                on current_rows.customer_key = resolved.customer_key
            when not matched by source then delete",
        ],
    )
}}

{#-
    One customer across CRM, marketing, e-commerce, billing, ERP and the app database. Profile fields
    come from the most authoritative system that has them (app, shop, billing, CRM, marketing, ERP,
    legacy). Customers whose records changed since the last build (per source system: each system's
    records newer than the newest of that system this model holds), or whose number of records in the
    identity map changed (one left them), are rebuilt from all their records; a customer absorbed by a
    merge is removed (post-hook).
-#}

with records as (

    select
        *,
        -- which system's value wins for a profile field
        case source_system
            when 'postgres.users' then 1
            when 'shopify.customers' then 2
            when 'stripe.customers' then 3
            when 'salesforce.accounts' then 4
            when 'hubspot.contacts' then 5
            when 'netsuite.customers' then 6
            when 'mysql.customer_data' then 7
            when 'salesforce.leads' then 8
        end as profile_priority
    from {{ ref('int_customer_source_records') }}

),

identity_map as (

    select * from {{ ref('slv_customer_identity_map') }}

),

resolved as (

    select
        identity_map.customer_key,
        records.*
    from records
    inner join identity_map
        on
            records.source_system = identity_map.source_system
            and records.source_record_id = identity_map.source_record_id

),

{% if is_incremental() and watermark_column_exists('_loaded_at_by_source') %}
    watermarks as (

        -- one watermark per source system: its records' _loaded_at come from different bronze tables,
        -- whose commits nothing orders against each other
        select
            loaded.source_system,
            max(loaded.loaded_at) as loaded_at
        from {{ this }}
            lateral view inline(_loaded_at_by_source) loaded as source_system, loaded_at
        group by loaded.source_system

    ),

{% endif %}
changed_customers as (

    select distinct resolved.customer_key
    from resolved
    {% if is_incremental() and watermark_column_exists('_loaded_at_by_source') %}
        left join watermarks
            on resolved.source_system = watermarks.source_system
        where watermarks.loaded_at is null or resolved._loaded_at > watermarks.loaded_at

        union

        -- a customer none of whose records changed, but that lost one (a changed record that no longer
        -- matches them moved to a customer of its own)
        select membership.customer_key
        from (
            select
                customer_key,
                count(*) as source_record_count
            from identity_map
            group by customer_key
        ) as membership
        inner join {{ this }} as current_rows
            on membership.customer_key = current_rows.customer_key
        where membership.source_record_count != current_rows.source_record_count
    {% endif %}

),

customer_records as (

    select
        resolved.*,
        -- the system of a record that is not deleted at its source: only such records give values and ids
        if(resolved.is_deleted, null, resolved.source_system) as live_system
    from resolved
    inner join changed_customers
        on resolved.customer_key = changed_customers.customer_key

),

profiles as (

    select
        customer_key,
        -- the first non-null value in profile priority order; a record deleted at its source (its latest
        -- version a delete, or soft-deleted / archived there) gives the customer no value and no id
        {% for column in ['email', 'phone', 'first_name', 'last_name', 'country_code', 'city', 'is_marketing_opt_in'] %}
            try_element_at(
                array_sort(
                    filter(
                        collect_list(
                            named_struct('priority', profile_priority, 'value', if(is_deleted, null, {{ column }}))
                        ),
                        candidate -> candidate.value is not null
                    )
                ),
                1
            ).value as {{ column }},
        {% endfor %}
        max(case when live_system = 'postgres.users' then app_user_id end) as app_user_id,
        max(case when live_system = 'shopify.customers' then source_record_id end) as shopify_customer_id,
        max(case when live_system = 'stripe.customers' then source_record_id end) as stripe_customer_id,
        max(case when live_system = 'salesforce.accounts' then source_record_id end) as salesforce_account_id,
        max(case when live_system = 'salesforce.leads' then source_record_id end) as salesforce_lead_id,
        min(case when live_system = 'hubspot.contacts' then source_record_id end) as hubspot_contact_id,
        max(case when live_system = 'netsuite.customers' then source_record_id end) as netsuite_customer_id,
        min(case when live_system = 'mysql.customer_data' then source_record_id end) as legacy_customer_id,
        count(*) as source_record_count,
        count(distinct source_system) as source_system_count,
        bool_or(source_system in ('postgres.users', 'shopify.customers', 'stripe.customers')) as is_customer,
        bool_and(is_deleted) as is_deleted,
        min(created_at) as first_seen_at,
        max(updated_at) as updated_at,
        max(_loaded_at) as _loaded_at,
        array_sort(collect_set(named_struct('source_system', source_system, 'loaded_at', _loaded_at)))
            as _loaded_at_by_source
    from customer_records
    group by customer_key

),

final as (

    select
        {{ select_masked() }}
    from profiles

)

select * from final
