{{
    config(
        partition_by=['fiscal_year'],
        post_hook=["{{ optimize_zorder(['posting_date', 'account_number']) }}"],
    )
}}

{#-
    The general ledger of both entities (US on QuickBooks, EU on SAP) with the group chart of accounts
    and the fiscal calendar: each line's amount signed debit-positive, as debit and credit, in the
    entity's currency, the transaction currency and USD, and signed by the account's normal balance.
-#}

with gl_entries as (

    select * from {{ ref('slv_gl_entries') }}

),

chart_of_accounts as (

    select * from {{ ref('chart_of_accounts') }}

),

fiscal_calendar as (

    select * from {{ ref('fiscal_calendar') }}

),

final as (

    select
        -- keys
        cast(gl_entries.gl_entry_id as string) as gl_entry_id,
        cast(gl_entries.document_id as string) as document_id,
        cast(gl_entries.document_line as string) as document_line,
        cast(gl_entries.account_number as string) as account_number,
        -- attributes
        cast(gl_entries.ledger_system as string) as ledger_system,
        cast(gl_entries.entity_code as string) as entity_code,
        cast(gl_entries.company_code as string) as company_code,
        cast(gl_entries.document_type as string) as document_type,
        cast(chart_of_accounts.account_name as string) as account_name,
        cast(chart_of_accounts.account_type as string) as account_type,
        cast(chart_of_accounts.normal_balance as string) as normal_balance,
        cast(chart_of_accounts.financial_statement as string) as financial_statement,
        cast(gl_entries.posting_side as string) as posting_side,
        cast(gl_entries.line_text as string) as line_text,
        cast(gl_entries.reference as string) as reference,
        -- amounts, in the entity's currency
        cast(gl_entries.entity_currency_code as string) as entity_currency_code,
        cast(gl_entries.entity_amount as decimal(18, 2)) as entity_amount,
        cast(gl_entries.debit_amount as decimal(18, 2)) as debit_amount,
        cast(gl_entries.credit_amount as decimal(18, 2)) as credit_amount,
        cast(
            case
                when chart_of_accounts.normal_balance = 'credit' then -gl_entries.entity_amount
                else gl_entries.entity_amount
            end as decimal(18, 2)
        ) as balance_amount,
        -- amounts, in the transaction currency and in USD
        cast(gl_entries.transaction_currency_code as string) as transaction_currency_code,
        cast(gl_entries.transaction_amount as decimal(18, 2)) as transaction_amount,
        cast(gl_entries.amount_usd as decimal(18, 2)) as amount_usd,
        -- dates
        cast(gl_entries.posting_date as date) as posting_date,
        cast(fiscal_calendar.fiscal_year as int) as fiscal_year,
        cast(fiscal_calendar.fiscal_quarter as int) as fiscal_quarter,
        cast(fiscal_calendar.fiscal_period as int) as fiscal_period,
        cast(gl_entries.created_at as timestamp) as created_at
    from gl_entries
    left join chart_of_accounts
        on gl_entries.account_number = chart_of_accounts.account_number
    left join fiscal_calendar
        on gl_entries.posting_date = fiscal_calendar.date_day

)

select * from final
