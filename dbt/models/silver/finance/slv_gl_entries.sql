{{ config(unique_key='gl_entry_id') }}

{#-
    The general ledger of both entities as one table: the US entity's QuickBooks lines (landed in
    Snowflake) and the EU entity's SAP journal entry items. Amounts are in the entity's currency
    (debit positive), in the transaction currency and in USD at the reference rates.
-#}

with quickbooks_lines as (

    select * from {{ ref('stg_snowflake__financial_transactions') }}
    {{ loaded_since_last_build() }}

),

sap_items as (

    select * from {{ ref('stg_sap__financial_documents') }}
    {{ loaded_since_last_build() }}

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

ranked as (

    select
        *,
        row_number() over (
            partition by gl_entry_id
            order by updated_at desc nulls last, _loaded_at desc
        ) as version_rank
    from unioned

),

final as (

    select
        -- keys
        ranked.gl_entry_id,
        ranked.ledger_system,
        ranked.entity_code,
        ranked.company_code,
        ranked.document_id,
        ranked.document_line,
        ranked.account_number,
        -- attributes
        ranked.document_type,
        ranked.posting_side,
        ranked.line_text,
        ranked.reference,
        -- amounts
        ranked.entity_currency_code,
        cast(ranked.entity_amount as decimal(18, 2)) as entity_amount,
        cast(case when ranked.posting_side = 'debit' then ranked.entity_amount else 0 end as decimal(18, 2))
            as debit_amount,
        cast(case when ranked.posting_side = 'credit' then -ranked.entity_amount else 0 end as decimal(18, 2))
            as credit_amount,
        ranked.transaction_currency_code,
        cast(ranked.transaction_amount as decimal(18, 2)) as transaction_amount,
        {{ to_usd('ranked.entity_amount', 'ranked.entity_currency_code') }} as amount_usd,
        -- dates
        ranked.posting_date,
        ranked.created_at,
        ranked.updated_at,
        -- audit
        ranked._loaded_at
    from ranked
    left join exchange_rates
        on
            ranked.entity_currency_code = exchange_rates.currency_code
            and ranked.posting_date between exchange_rates.valid_from_date and exchange_rates.valid_to_date
    where ranked.version_rank = 1

)

select * from final
