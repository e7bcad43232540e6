{#-
    Bronze -> silver reconciliation for payments: the charges and their amounts in silver equal the
    latest version of each charge in bronze (count and sum per currency).
-#}

with bronze_latest as (

    select
        charge_id,
        currency_code,
        amount,
        row_number() over (partition by charge_id order by updated_at desc, _loaded_at desc) as version_rank
    from {{ ref('stg_stripe__charges') }}

),

bronze_totals as (

    select
        currency_code,
        count(*) as charge_count,
        sum(amount) as amount
    from bronze_latest
    where version_rank = 1
    group by currency_code

),

silver_totals as (

    select
        currency_code,
        count(*) as charge_count,
        sum(amount) as amount
    from {{ ref('slv_payments') }}
    group by currency_code

)

select
    coalesce(bronze_totals.currency_code, silver_totals.currency_code) as currency_code,
    bronze_totals.charge_count as bronze_charge_count,
    silver_totals.charge_count as silver_charge_count,
    bronze_totals.amount as bronze_amount,
    silver_totals.amount as silver_amount
from bronze_totals
full outer join silver_totals
    on bronze_totals.currency_code = silver_totals.currency_code
where
    not (bronze_totals.charge_count <=> silver_totals.charge_count)
    or not (bronze_totals.amount <=> silver_totals.amount)
