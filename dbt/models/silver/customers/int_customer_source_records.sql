{{
    config(
        unique_key=['source_system', 'source_record_id'],
    )
}}

{#-
    Every customer-like record of every system, latest version of each, with contact details
    normalised and masked: identity resolution matches on the salted hashes stored here, so raw
    contact details never land in silver.
-#}

with postgres_users as (

    select * from {{ ref('stg_postgres__users') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'postgres.users'}) }}

),

mysql_customers as (

    select * from {{ ref('stg_mysql__customer_data') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'mysql.customer_data'}) }}

),

salesforce_accounts as (

    select * from {{ ref('stg_salesforce__accounts') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'salesforce.accounts'}) }}

),

salesforce_leads as (

    select * from {{ ref('stg_salesforce__leads') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'salesforce.leads'}) }}

),

hubspot_contacts as (

    select * from {{ ref('stg_hubspot__contacts') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'hubspot.contacts'}) }}

),

shopify_customers as (

    select * from {{ ref('stg_shopify__customers') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'shopify.customers'}) }}

),

stripe_customers as (

    select * from {{ ref('stg_stripe__customers') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'stripe.customers'}) }}

),

netsuite_customers as (

    select * from {{ ref('stg_netsuite__customers') }}
    {{ loaded_since_last_build(watermark_rows={'source_system': 'netsuite.customers'}) }}

),

countries as (

    select * from {{ ref('countries') }}

),

unioned as (

    select
        'postgres.users' as source_system,
        cast(user_id as string) as source_record_id,
        email,
        phone,
        first_name,
        last_name,
        country_code,
        city,
        user_id as app_user_id,
        is_marketing_opt_in,
        coalesce(_op = 'delete', false) as is_deleted,
        created_at,
        updated_at,
        _loaded_at
    from postgres_users

    union all

    select
        'mysql.customer_data' as source_system,
        cast(mysql_customers.legacy_customer_id as string) as source_record_id,
        mysql_customers.email,
        mysql_customers.phone,
        initcap(substring_index(mysql_customers.customer_name, ' ', 1)) as first_name,
        initcap(substring_index(mysql_customers.customer_name, ' ', -1)) as last_name,
        countries.country_code,
        mysql_customers.city,
        cast(null as bigint) as app_user_id,
        cast(null as boolean) as is_marketing_opt_in,
        coalesce(mysql_customers._op = 'delete', false) as is_deleted,
        mysql_customers.created_at,
        mysql_customers.updated_at,
        mysql_customers._loaded_at
    from mysql_customers
    left join countries
        on mysql_customers.country_name = countries.country_name

    union all

    select
        'salesforce.accounts' as source_system,
        salesforce_accounts.account_id as source_record_id,
        salesforce_accounts.email,
        salesforce_accounts.phone,
        salesforce_accounts.first_name,
        salesforce_accounts.last_name,
        countries.country_code,
        salesforce_accounts.billing_city as city,
        cast(null as bigint) as app_user_id,
        cast(null as boolean) as is_marketing_opt_in,
        coalesce(salesforce_accounts.is_deleted or salesforce_accounts._op = 'delete', false) as is_deleted,
        salesforce_accounts.created_at,
        salesforce_accounts.updated_at,
        salesforce_accounts._loaded_at
    from salesforce_accounts
    left join countries
        on salesforce_accounts.billing_country_name = countries.country_name
    where salesforce_accounts.is_person_account  -- business accounts are companies, not customers

    union all

    select
        'salesforce.leads' as source_system,
        salesforce_leads.lead_id as source_record_id,
        salesforce_leads.email,
        salesforce_leads.phone,
        salesforce_leads.first_name,
        salesforce_leads.last_name,
        countries.country_code,
        salesforce_leads.city,
        cast(null as bigint) as app_user_id,
        cast(null as boolean) as is_marketing_opt_in,
        coalesce(salesforce_leads.is_deleted or salesforce_leads._op = 'delete', false) as is_deleted,
        salesforce_leads.created_at,
        salesforce_leads.updated_at,
        salesforce_leads._loaded_at
    from salesforce_leads
    left join countries
        on salesforce_leads.country_name = countries.country_name

    union all

    select
        'hubspot.contacts' as source_system,
        cast(hubspot_contacts.contact_id as string) as source_record_id,
        hubspot_contacts.email,
        hubspot_contacts.phone,
        hubspot_contacts.first_name,
        hubspot_contacts.last_name,
        countries.country_code,
        hubspot_contacts.city,
        cast(null as bigint) as app_user_id,
        hubspot_contacts.is_marketable as is_marketing_opt_in,
        coalesce(hubspot_contacts.is_archived or hubspot_contacts._op = 'delete', false) as is_deleted,
        hubspot_contacts.created_at,
        hubspot_contacts.updated_at,
        hubspot_contacts._loaded_at
    from hubspot_contacts
    left join countries
        on hubspot_contacts.country_name = countries.country_name

    union all

    select
        'shopify.customers' as source_system,
        cast(customer_id as string) as source_record_id,
        email,
        phone,
        first_name,
        last_name,
        country_code,
        city,
        cast(null as bigint) as app_user_id,
        is_accepts_marketing as is_marketing_opt_in,
        coalesce(_op = 'delete', false) as is_deleted,
        created_at,
        updated_at,
        _loaded_at
    from shopify_customers

    union all

    select
        'stripe.customers' as source_system,
        customer_id as source_record_id,
        email,
        phone,
        nullif(substring_index(customer_name, ' ', 1), customer_name) as first_name,
        substring_index(customer_name, ' ', -1) as last_name,
        country_code,
        city,
        app_user_id,
        cast(null as boolean) as is_marketing_opt_in,
        coalesce(_op = 'delete', false) as is_deleted,
        created_at,
        updated_at,
        _loaded_at
    from stripe_customers

    union all

    select
        'netsuite.customers' as source_system,
        cast(customer_id as string) as source_record_id,
        email,
        phone,
        first_name,
        last_name,
        cast(null as string) as country_code,
        cast(null as string) as city,
        cast(null as bigint) as app_user_id,
        cast(null as boolean) as is_marketing_opt_in,
        coalesce(_op = 'delete', false) as is_deleted,
        created_at,
        updated_at,
        _loaded_at
    from netsuite_customers

),

deduplicated as (

    {{ latest_version('unioned', ['source_system', 'source_record_id']) }}

),

latest as (

    select
        -- keys
        source_system,
        source_record_id,
        app_user_id,
        -- attributes
        nullif(trim(email), '') as email,
        nullif(trim(phone), '') as phone,
        first_name,
        last_name,
        country_code,
        city,
        is_marketing_opt_in,
        is_deleted,
        -- dates
        created_at,
        updated_at,
        -- audit
        _loaded_at
    from deduplicated

),

final as (

    select
        {{ select_masked('latest') }}
    from latest
    {{ exclude_older_than_current('latest', ['source_system', 'source_record_id']) }}

)

select * from final
