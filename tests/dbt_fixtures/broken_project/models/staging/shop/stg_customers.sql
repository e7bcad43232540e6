-- broken: naming-and-folder (not stg_shop__customers), undocumented-model, undocumented-column,
-- missing-primary-key-test
select * from {{ source('shop', 'customers') }}
