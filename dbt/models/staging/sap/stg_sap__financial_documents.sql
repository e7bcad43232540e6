with source as (

    select * from {{ source('sap', 'financial_documents') }}

),

renamed as (

    select
        -- keys
        CompanyCode as company_code,
        cast(FiscalYear as int) as fiscal_year,
        AccountingDocument as accounting_document_id,
        AccountingDocumentItem as document_item,
        cast(cast(GLAccount as bigint) as string) as account_number,
        -- attributes
        AccountingDocumentType as document_type,
        DebitCreditCode as debit_credit_code,
        DocumentItemText as item_text,
        AssignmentReference as assignment_reference,
        -- amounts
        cast(AmountInCompanyCodeCurrency as decimal(18, 2)) as amount_company_currency,
        upper(CompanyCodeCurrency) as company_currency_code,
        cast(AmountInTransactionCurrency as decimal(18, 2)) as amount_transaction_currency,
        upper(TransactionCurrency) as transaction_currency_code,
        -- dates
        to_date(
            timestamp_millis(cast(regexp_extract(PostingDate, '/Date[(](-?[0-9]+)', 1) as bigint))
        ) as posting_date,
        to_date(
            timestamp_millis(cast(regexp_extract(DocumentDate, '/Date[(](-?[0-9]+)', 1) as bigint))
        ) as document_date,
        timestamp_millis(cast(regexp_extract(CreationDateTime, '/Date[(](-?[0-9]+)', 1) as bigint)) as created_at,
        -- load metadata
        _loaded_at,
        _load_id,
        _op,
        _rescued_data
    from source

)

select * from renamed
