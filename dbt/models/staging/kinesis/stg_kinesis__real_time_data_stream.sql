with source as (

    select * from {{ source('kinesis', 'real_time_data_stream') }}

),

decoded as (

    select
        *,
        from_json(
            cast(unbase64(Data) as string),
            'event_type string, session_id string, anonymous_id string, user_id bigint, sku string, occurred_at string'
        ) as record
    from source

),

renamed as (

    select
        -- keys
        SequenceNumber as sequence_number,
        ShardId as shard_id,
        record.session_id,
        record.user_id,
        -- attributes
        PartitionKey as partition_key,
        record.anonymous_id,
        lower(record.event_type) as event_type,
        upper(record.sku) as sku,
        -- dates
        cast(record.occurred_at as timestamp) as occurred_at,
        timestamp_millis(cast(ApproximateArrivalTimestamp * 1000 as bigint)) as arrived_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from decoded

)

select * from renamed
