{{ config(materialized='observability_table', schema=var('observability_schema', 'observability')) }}

{{ observability_empty_select('dbt_tests') }}
