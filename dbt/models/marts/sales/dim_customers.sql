{#-
    Customer 360: one row per resolved customer (the identity map's customer across the app, shop,
    billing, CRM, marketing, ERP and legacy systems), with where they are known, their shop orders and
    their Trail Club subscription. Contact details stay in silver (hashed); this table carries none.
-#}

with customers as (

    select * from {{ ref('slv_customers') }}

),

identity_map as (

    select * from {{ ref('slv_customer_identity_map') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

subscriptions as (

    select * from {{ ref('slv_subscriptions') }}

),

countries as (

    select * from {{ ref('countries') }}

),

order_summary as (

    select
        customer_key,
        count(*) as order_count,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        sum(net_amount_usd) as net_order_revenue_usd
    from orders
    where not is_cancelled
    group by customer_key

),

subscription_summary as (

    select
        identity_map.customer_key,
        count_if(subscriptions.is_active) as live_subscription_count,
        sum(subscriptions.mrr_amount_usd) as current_mrr_usd,
        min(subscriptions.started_at) as first_subscribed_at
    from subscriptions
    inner join identity_map
        on
            identity_map.source_system = 'stripe.customers'
            and subscriptions.stripe_customer_id = identity_map.source_record_id
    where not subscriptions.is_deleted
    group by identity_map.customer_key

),

final as (

    select
        -- keys
        cast(customers.customer_key as string) as customer_key,
        cast(customers.app_user_id as bigint) as app_user_id,
        cast(customers.shopify_customer_id as string) as shopify_customer_id,
        cast(customers.stripe_customer_id as string) as stripe_customer_id,
        cast(customers.salesforce_account_id as string) as salesforce_account_id,
        cast(customers.hubspot_contact_id as string) as hubspot_contact_id,
        cast(customers.netsuite_customer_id as string) as netsuite_customer_id,
        -- attributes
        cast(customers.country_code as string) as country_code,
        cast(coalesce(countries.sales_region, 'Unknown') as string) as sales_region,
        cast(customers.city as string) as city,
        cast(customers.is_marketing_opt_in as boolean) as is_marketing_opt_in,
        cast(customers.is_customer as boolean) as is_customer,
        cast(coalesce(subscription_summary.live_subscription_count, 0) > 0 as boolean) as is_subscriber,
        cast(customers.is_deleted as boolean) as is_deleted,
        cast(customers.source_record_count as bigint) as source_record_count,
        cast(customers.source_system_count as bigint) as source_system_count,
        -- orders and subscription
        cast(coalesce(order_summary.order_count, 0) as bigint) as order_count,
        cast(coalesce(order_summary.net_order_revenue_usd, 0) as decimal(18, 2)) as net_order_revenue_usd,
        cast(coalesce(subscription_summary.current_mrr_usd, 0) as decimal(18, 2)) as current_mrr_usd,
        -- dates
        cast(customers.first_seen_at as timestamp) as first_seen_at,
        cast(order_summary.first_order_date as date) as first_order_date,
        cast(order_summary.last_order_date as date) as last_order_date,
        {{ month_start('order_summary.first_order_date') }} as cohort_month,
        cast(subscription_summary.first_subscribed_at as timestamp) as first_subscribed_at,
        cast(customers.updated_at as timestamp) as updated_at
    from customers
    left join countries
        on customers.country_code = countries.country_code
    left join order_summary
        on customers.customer_key = order_summary.customer_key
    left join subscription_summary
        on customers.customer_key = subscription_summary.customer_key

)

select * from final
