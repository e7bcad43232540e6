-- broken: naming-and-folder (outside the layers), missing-primary-key-test, undocumented-*
select count(*) as order_count from {{ ref('stg_shop__orders') }}
