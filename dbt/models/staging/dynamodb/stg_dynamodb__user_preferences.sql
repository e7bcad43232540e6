with source as (

    select * from {{ source('dynamodb', 'user_preferences') }}

),

renamed as (

    select
        -- keys
        cast(Item.user_id.S as bigint) as user_id,
        -- attributes
        Item.theme.S as theme,
        Item.language.S as language_code,
        upper(Item.currency.S) as currency_code,
        Item.favorite_categories.SS as favorite_categories,
        Item.email_opt_in.BOOL as is_email_opt_in,
        cast(Item.version.N as bigint) as item_version,
        -- dates
        timestamp_seconds(cast(Item.updated_at.N as bigint)) as updated_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
