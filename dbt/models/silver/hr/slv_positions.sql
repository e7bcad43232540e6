{{ config(unique_key='position_id') }}

{#- Workday positions, filled or open, latest version of each. -#}

with positions as (

    select * from {{ ref('stg_workday__positions') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version('positions', 'position_id') }}

),

final as (

    select
        -- keys
        position_id,
        position_code,
        organization_id,
        worker_id,
        -- attributes
        position_title,
        is_filled,
        is_available_for_hire,
        coalesce(_op = 'delete', false) as is_deleted,
        -- dates
        created_at,
        updated_at,
        -- audit
        _loaded_at
    from latest
    {{ exclude_older_than_current('latest', 'position_id') }}

)

select * from final
