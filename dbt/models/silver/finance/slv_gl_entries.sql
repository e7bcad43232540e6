{{ config(unique_key='gl_entry_id') }}

{#-
    The general ledger of both entities as one table: the US entity's QuickBooks lines (landed in
    Snowflake) and the EU entity's SAP journal entry items. Amounts are in the entity's currency
    (debit positive), in the transaction currency and in USD at the reference rates.
-#}

with quickbooks_lines as (

    select * from {{ ref('stg_snowflake__financial_transactions') }}
    {{ loaded_since_last_build(watermark_rows={'ledger_system': 'quickbooks'}) }}

),

sap_items as (

    select * from {{ ref('stg_sap__financial_documents') }}
    {{ loaded_since_last_build(watermark_rows={'ledger_system': 'sap'}) }}

),

exchange_rates as (

    select * from {{ ref('exchange_rates') }}

),

unioned as (

    select
        concat('quickbooks:', transaction_id, ':', line_number) as gl_entry_id,
        'quickbooks' as ledger_system,
        'US' as entity_code,
        '1000' as company_code,
        transaction_id as document_id,
        cast(line_number as string) as document_line,
        transaction_type as document_type,
        account_number,
        memo as line_text,
        document_number as reference,
        case when posting_type = 'Debit' then 'debit' else 'credit' end as posting_side,
        'USD' as entity_currency_code,
        case when posting_type = 'Debit' then home_amount_usd else -home_amount_usd end as entity_amount,
        currency_code as transaction_currency_code,
        case when posting_type = 'Debit' then amount else -amount end as transaction_amount,
        transaction_date as posting_date,
        created_at,
        updated_at,
        _loaded_at
    from quickbooks_lines

    union all

    select
        concat('sap:', company_code, ':', fiscal_year, ':', accounting_document_id, ':', document_item) as gl_entry_id,
        'sap' as ledger_system,
        'EU' as entity_code,
        company_code,
        concat(fiscal_year, '-', accounting_document_id) as document_id,
        document_item as document_line,
        document_type,
        account_number,
        item_text as line_text,
        assignment_reference as reference,
        case when debit_credit_code = 'S' then 'debit' else 'credit' end as posting_side,
        company_currency_code as entity_currency_code,
        amount_company_currency as entity_amount,
        transaction_currency_code,
        amount_transaction_currency as transaction_amount,
        posting_date,
        created_at,
        created_at as updated_at,
        _loaded_at
    from sap_items

),

latest as (

    {{ latest_version('unioned', 'gl_entry_id', order_by=['updated_at desc nulls last', '_loaded_at desc']) }}

),

final as (

    select
        -- keys
        latest.gl_entry_id,
        latest.ledger_system,
        latest.entity_code,
        latest.company_code,
        latest.document_id,
        latest.document_line,
        latest.account_number,
        -- attributes
        latest.document_type,
        latest.posting_side,
        latest.line_text,
        latest.reference,
        -- amounts
        latest.entity_currency_code,
        cast(latest.entity_amount as decimal(18, 2)) as entity_amount,
        cast(case when latest.posting_side = 'debit' then latest.entity_amount else 0 end as decimal(18, 2))
            as debit_amount,
        cast(case when latest.posting_side = 'credit' then -latest.entity_amount else 0 end as decimal(18, 2))
            as credit_amount,
        latest.transaction_currency_code,
        cast(latest.transaction_amount as decimal(18, 2)) as transaction_amount,
        {{ to_usd('latest.entity_amount', 'latest.entity_currency_code') }} as amount_usd,
        -- dates
        latest.posting_date,
        latest.created_at,
        latest.updated_at,
        -- audit
        latest._loaded_at
    from latest
    {{ join_exchange_rate('latest.entity_currency_code', 'latest.posting_date') }}

)

select * from final
