{#-
    Monthly cohorts: customers grouped by the month of their first shop order in the data, followed
    month by month up to the latest month with orders: how many still order, and what the cohort has
    spent (net of refunds, USD). Cancelled orders are left out.
-#}

with orders as (

    select * from {{ ref('fct_orders') }}

),

kept_orders as (

    select
        customer_key,
        order_month,
        net_amount_usd,
        min(order_month) over (partition by customer_key) as cohort_month
    from orders
    where not is_cancelled

),

cohort_sizes as (

    select
        cohort_month,
        count(distinct customer_key) as cohort_customer_count
    from kept_orders
    group by cohort_month

),

cohort_months as (

    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_customer_count,
        explode(
            sequence(
                cohort_sizes.cohort_month,
                (select max(kept_orders.order_month) from kept_orders),
                interval 1 month
            )
        ) as activity_month
    from cohort_sizes

),

activity as (

    select
        cohort_month,
        order_month as activity_month,
        count(distinct customer_key) as active_customer_count,
        count(*) as order_count,
        sum(net_amount_usd) as net_revenue_usd
    from kept_orders
    group by cohort_month, order_month

),

filled as (

    select
        cohort_months.cohort_month,
        cohort_months.activity_month,
        cohort_months.cohort_customer_count,
        coalesce(activity.active_customer_count, 0) as active_customer_count,
        coalesce(activity.order_count, 0) as order_count,
        coalesce(activity.net_revenue_usd, 0) as net_revenue_usd,
        sum(coalesce(activity.net_revenue_usd, 0)) over (
            partition by cohort_months.cohort_month
            order by cohort_months.activity_month
            rows between unbounded preceding and current row
        ) as cumulative_net_revenue_usd
    from cohort_months
    left join activity
        on
            cohort_months.cohort_month = activity.cohort_month
            and cohort_months.activity_month = activity.activity_month

),

final as (

    select
        -- keys
        cast(cohort_month as date) as cohort_month,
        cast(activity_month as date) as activity_month,
        cast(months_between(activity_month, cohort_month) as int) as months_since_first_order,
        -- counts
        cast(cohort_customer_count as bigint) as cohort_customer_count,
        cast(active_customer_count as bigint) as active_customer_count,
        cast(order_count as bigint) as order_count,
        {{ safe_ratio('active_customer_count', 'cohort_customer_count') }} as retention_rate,
        -- amounts, in USD
        cast(net_revenue_usd as decimal(18, 2)) as net_revenue_usd,
        cast(cumulative_net_revenue_usd as decimal(18, 2)) as cumulative_net_revenue_usd,
        cast(round(cumulative_net_revenue_usd / cohort_customer_count, 2) as decimal(18, 2))
            as cumulative_revenue_per_customer_usd
    from filled

)

select * from final
