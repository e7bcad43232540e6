{{ config(materialized='observability_table', schema=var('observability_schema', 'observability')) }}

{{ lakehouse_observability.observability_empty_select('dbt_test_results') }}
