"""`lakehouse`: the command line of the platform (typer + rich).

lakehouse demo                      load the bundled sources, build every dbt model, print a summary
lakehouse spark setup|start|stop|status
lakehouse s3 start|stop|status|env  a local S3 server (SeaweedFS) for the S3 path
lakehouse load SOURCE [--stream S] [--full-refresh]
lakehouse stream SOURCE [--batch-size N] [--interval S]   follow Kafka / Kinesis / MQTT until SIGTERM
lakehouse sources list|check|discover SOURCE
lakehouse maintain [SOURCE] [--vacuum] [--retention-hours N] [--dry-run]
lakehouse register                  register bronze tables and layer databases in the metastore
lakehouse dbt ARGS...               run dbt with the project's profiles (e.g. `lakehouse dbt build`)
lakehouse docs generate|serve
lakehouse company publish --postgres URI --mysql URI [--days N]   the company, into real database servers
lakehouse airbyte plan|apply|sync CONNECTION|install PIN|spec PIN   Airbyte connections as code, local connectors
lakehouse privacy erase --subject S [--vacuum] | retention [--apply]   GDPR/CCPA erasure, retention policy
lakehouse metrics publish [--loads-since-minutes N] [--dry-run]   CloudWatch metrics for the infra alarms
lakehouse orchestrate dev [--port 3000]   the Dagster UI and daemon (schedules, sensors) over orchestration/
lakehouse orchestrate backfill --from DAY --to DAY   one run per day: silver rows loaded that day, then marts
"""

from __future__ import annotations

import typer

from lakehouse.cli import airbyte, company, dbt, demo, metrics, orchestrate, platform, privacy, quality, sources, stream
from lakehouse.cli.errors import friendly_errors

__all__ = ["app", "friendly_errors"]

app = typer.Typer(help="The lakehouse ELT platform: loaders → bronze Delta → dbt-spark → marts.", no_args_is_help=True)
app.command()(demo.demo)
app.add_typer(platform.spark_app, name="spark")
app.add_typer(platform.s3_app, name="s3")
app.command()(sources.load)
app.command()(stream.stream)
app.add_typer(sources.sources_app, name="sources")
app.command()(sources.maintain)
app.command()(sources.register)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(dbt.dbt)
app.add_typer(dbt.docs_app, name="docs")
app.add_typer(company.company_app, name="company")
app.add_typer(privacy.privacy_app, name="privacy")
app.add_typer(metrics.metrics_app, name="metrics")
app.add_typer(orchestrate.orchestrate_app, name="orchestrate")
quality.register(app)
app.add_typer(airbyte.airbyte_app, name="airbyte")
