"""Observability of the platform: the report, the alerts and the project rules (dbt package lakehouse_observability)."""
