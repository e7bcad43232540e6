"""Observability outputs: the HTML report (`report`, `charts`, `templates/`), webhook alerts
(`alerts`), over the Delta tables the dbt on-run-end hook writes (`store`)."""
