-- broken: naming-and-folder (not brz_shop__customers), undocumented-model, undocumented-column,
-- missing-primary-key-test
select * from {{ source('shop', 'customers') }}
