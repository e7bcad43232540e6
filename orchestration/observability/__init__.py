"""Observability of the platform: the report, the alerts and the project rules (see dbt/macros/observability)."""
