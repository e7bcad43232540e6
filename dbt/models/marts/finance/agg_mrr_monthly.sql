{#-
    The MRR bridge per month: opening MRR, the movements (new, expansion, contraction, churn,
    reactivation), closing MRR and ARR, customers and live subscriptions at the month end, in USD.
-#}

with movements as (

    select * from {{ ref('fct_mrr_movements') }}

),

monthly as (

    select
        month_start_date,
        sum(previous_mrr_usd) as opening_mrr_usd,
        sum(new_mrr_usd) as new_mrr_usd,
        sum(expansion_mrr_usd) as expansion_mrr_usd,
        sum(contraction_mrr_usd) as contraction_mrr_usd,
        sum(churned_mrr_usd) as churned_mrr_usd,
        sum(reactivation_mrr_usd) as reactivation_mrr_usd,
        sum(mrr_usd) as closing_mrr_usd,
        count_if(mrr_usd > 0) as customer_count,
        count_if(movement_type = 'new') as new_customer_count,
        count_if(movement_type = 'churn') as churned_customer_count,
        sum(live_subscription_count) as live_subscription_count
    from movements
    group by month_start_date

),

final as (

    select
        -- keys
        cast(month_start_date as date) as month_start_date,
        -- amounts, in USD
        cast(opening_mrr_usd as decimal(18, 2)) as opening_mrr_usd,
        cast(new_mrr_usd as decimal(18, 2)) as new_mrr_usd,
        cast(expansion_mrr_usd as decimal(18, 2)) as expansion_mrr_usd,
        cast(contraction_mrr_usd as decimal(18, 2)) as contraction_mrr_usd,
        cast(churned_mrr_usd as decimal(18, 2)) as churned_mrr_usd,
        cast(reactivation_mrr_usd as decimal(18, 2)) as reactivation_mrr_usd,
        cast(closing_mrr_usd as decimal(18, 2)) as closing_mrr_usd,
        cast(closing_mrr_usd * 12 as decimal(18, 2)) as closing_arr_usd,
        -- counts
        cast(customer_count as bigint) as customer_count,
        cast(new_customer_count as bigint) as new_customer_count,
        cast(churned_customer_count as bigint) as churned_customer_count,
        cast(live_subscription_count as bigint) as live_subscription_count
    from monthly

)

select * from final
