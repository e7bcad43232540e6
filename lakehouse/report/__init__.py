"""Observability outputs: the HTML report (`report`, `charts`, `templates/`), webhook alerts
(`alerts`), CloudWatch metrics for the infra alarms (`metrics`), over the Delta tables the dbt
on-run-end hook writes (`store`) and the load ledger."""
