{{ config(unique_key=['device_id', 'read_at']) }}

{#- Warehouse sensor readings from AWS IoT Core; a message delivered twice (QoS 1) is kept once. -#}

with readings as (

    select * from {{ ref('stg_iot_core__sensor_data') }}
    {{ loaded_since_last_build() }}

),

latest as (

    {{ latest_version(
        'readings', ['device_id', 'read_at'],
        order_by=['received_at desc', '_loaded_at desc'],
        where='read_at is not null',
    ) }}

),

final as (

    select
        -- keys
        device_id,
        read_at,
        warehouse_code,
        -- attributes
        temperature_c > 8 and device_id like '%coldroom%' as is_cold_chain_breach,
        -- amounts
        temperature_c,
        humidity_pct,
        battery_pct,
        -- dates
        to_date(read_at) as reading_date,
        received_at,
        -- audit
        _loaded_at
    from latest

)

select * from final
