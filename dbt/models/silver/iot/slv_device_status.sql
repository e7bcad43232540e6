{{ config(unique_key='device_id') }}

{#- The latest reported state of each IoT device (shadow updates; the highest shadow version wins). -#}

with shadow_updates as (

    select * from {{ ref('stg_iot_core__device_status') }}
    {{ loaded_since_last_build() }}

),

deduplicated as (

    {{ latest_version(
        'shadow_updates', 'device_id',
        order_by=['shadow_version desc', 'reported_at desc', '_loaded_at desc'],
    ) }}

),

latest as (

    select
        device_id,
        device_status,
        firmware_version,
        shadow_version,
        rssi_dbm,
        reported_at,
        reported_at as updated_at,
        _loaded_at
    from deduplicated

),

final as (

    select
        -- keys
        device_id,
        -- attributes
        device_status,
        device_status = 'online' as is_online,
        firmware_version,
        shadow_version,
        -- amounts
        rssi_dbm,
        -- dates
        reported_at,
        updated_at,
        -- audit
        _loaded_at
    from latest
    {{ exclude_older_than_current('latest', 'device_id') }}

)

select * from final
