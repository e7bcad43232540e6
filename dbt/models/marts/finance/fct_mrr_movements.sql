{#-
    Monthly recurring revenue per customer at each month end, and how it moved since the previous one.

    A subscription counts at a month end when it started before it and had not ended by then (active
    or past due). Its price and seats are those of the subscription's version in force at the month end
    (snp_subscriptions, SCD2 on Stripe's `updated`), in USD as silver converted it
    (subscription_amount_usd); for months before the first version captured, the earliest version stands in. The month in progress is the month of the latest subscription change,
    and its "month end" is the current state.

    Movement of a customer's MRR from the previous month end: new (from nothing, first time),
    reactivation (from nothing, after an earlier churn), expansion, contraction, churn (to nothing),
    unchanged.
-#}

with subscription_versions as (

    select * from {{ ref('snp_subscriptions') }}

),

identity_map as (

    select * from {{ ref('slv_customer_identity_map') }}

),

subscription_latest as (

    {{ latest_version('subscription_versions', 'subscription_id', order_by=['dbt_valid_from desc']) }}

),

latest_versions as (

    select * from subscription_latest
    where not is_deleted

),

bounds as (

    select
        {{ month_start('min(started_at)') }} as first_month,
        {{ month_start('max(updated_at)') }} as last_month
    from latest_versions

),

months as (

    select explode(sequence(bounds.first_month, bounds.last_month, interval 1 month)) as month_start_date
    from bounds

),

live_subscription_months as (

    select
        latest_versions.subscription_id,
        latest_versions.stripe_customer_id,
        months.month_start_date,
        cast(add_months(months.month_start_date, 1) as timestamp) as month_end_at
    from latest_versions
    cross join months
    where
        latest_versions.started_at < cast(add_months(months.month_start_date, 1) as timestamp)
        and (
            latest_versions.ended_at is null
            or latest_versions.ended_at >= cast(add_months(months.month_start_date, 1) as timestamp)
        )

),

priced as (

    select
        live_subscription_months.*,
        subscription_versions.subscription_amount_usd,
        row_number() over (
            partition by live_subscription_months.subscription_id, live_subscription_months.month_start_date
            order by
                subscription_versions.dbt_valid_from < live_subscription_months.month_end_at desc,
                case
                    when subscription_versions.dbt_valid_from < live_subscription_months.month_end_at
                        then subscription_versions.dbt_valid_from
                end desc,
                subscription_versions.dbt_valid_from asc
        ) as version_rank
    from live_subscription_months
    inner join subscription_versions
        on live_subscription_months.subscription_id = subscription_versions.subscription_id

),

subscription_mrr as (

    select
        -- an unmatched Stripe customer is its own customer, keyed as the identity map would key it
        coalesce(identity_map.customer_key, md5(concat('stripe.customers:', priced.stripe_customer_id)))
            as customer_key,
        priced.month_start_date,
        priced.subscription_amount_usd as mrr_usd
    from priced
    left join identity_map
        on
            identity_map.source_system = 'stripe.customers'
            and priced.stripe_customer_id = identity_map.source_record_id
    where priced.version_rank = 1

),

customer_months as (

    select
        customer_key,
        month_start_date,
        count(*) as live_subscription_count,
        sum(mrr_usd) as mrr_usd
    from subscription_mrr
    group by customer_key, month_start_date

),

customer_grid as (

    -- every month from the customer's first month with MRR to the month in progress
    select
        customer_key,
        explode(
            sequence(min(month_start_date), (select bounds.last_month from bounds), interval 1 month)
        ) as month_start_date
    from customer_months
    group by customer_key

),

filled as (

    select
        customer_grid.customer_key,
        customer_grid.month_start_date,
        coalesce(customer_months.live_subscription_count, 0) as live_subscription_count,
        coalesce(customer_months.mrr_usd, 0) as mrr_usd
    from customer_grid
    left join customer_months
        on
            customer_grid.customer_key = customer_months.customer_key
            and customer_grid.month_start_date = customer_months.month_start_date

),

compared as (

    select
        *,
        coalesce(lag(mrr_usd) over (partition by customer_key order by month_start_date), 0) as previous_mrr_usd,
        coalesce(
            max(mrr_usd) over (
                partition by customer_key
                order by month_start_date
                rows between unbounded preceding and 1 preceding
            ),
            0
        ) as earlier_peak_mrr_usd
    from filled

),

classified as (

    select
        *,
        case
            when previous_mrr_usd = 0 and mrr_usd > 0 and earlier_peak_mrr_usd = 0 then 'new'
            when previous_mrr_usd = 0 and mrr_usd > 0 then 'reactivation'
            when previous_mrr_usd > 0 and mrr_usd = 0 then 'churn'
            when mrr_usd > previous_mrr_usd then 'expansion'
            when mrr_usd < previous_mrr_usd then 'contraction'
            else 'unchanged'
        end as movement_type
    from compared
    where mrr_usd > 0 or previous_mrr_usd > 0

),

final as (

    select
        -- keys
        cast(customer_key as string) as customer_key,
        cast(month_start_date as date) as month_start_date,
        -- attributes
        cast(movement_type as string) as movement_type,
        cast(live_subscription_count as bigint) as live_subscription_count,
        -- amounts, in USD
        cast(previous_mrr_usd as decimal(18, 2)) as previous_mrr_usd,
        cast(mrr_usd as decimal(18, 2)) as mrr_usd,
        cast(mrr_usd - previous_mrr_usd as decimal(18, 2)) as mrr_change_usd,
        cast(case when movement_type = 'new' then mrr_usd else 0 end as decimal(18, 2)) as new_mrr_usd,
        cast(case when movement_type = 'expansion' then mrr_usd - previous_mrr_usd else 0 end as decimal(18, 2))
            as expansion_mrr_usd,
        cast(case when movement_type = 'contraction' then mrr_usd - previous_mrr_usd else 0 end as decimal(18, 2))
            as contraction_mrr_usd,
        cast(case when movement_type = 'churn' then -previous_mrr_usd else 0 end as decimal(18, 2))
            as churned_mrr_usd,
        cast(case when movement_type = 'reactivation' then mrr_usd else 0 end as decimal(18, 2))
            as reactivation_mrr_usd,
        cast(mrr_usd * 12 as decimal(18, 2)) as arr_usd
    from classified

)

select * from final
