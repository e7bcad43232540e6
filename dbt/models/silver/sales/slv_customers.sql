{{ config(unique_key='customer_id') }}

with customers as (

    select * from {{ ref('brz_shop__customers') }} as bronze_rows
    {{ loaded_since_last_build('bronze_rows') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by updated_at desc, _loaded_at desc
        ) as version_rank
    from customers

),

latest as (

    select * from ranked
    where version_rank = 1

),

final as (

    select
        -- keys
        customer_id,
        -- attributes
        lower(trim(email)) as email,
        full_name,
        country_code,
        -- dates
        created_at,
        updated_at,
        -- audit
        _loaded_at
    from latest
    {% if is_incremental() %}
        where not exists (
            select 1
            from {{ this }} as current_rows
            where
                current_rows.customer_id = latest.customer_id
                and current_rows.updated_at > latest.updated_at
        )
    {% endif %}

)

select * from final
