"""Airbyte connections as assets: one per connection of the workspace file, keyed `["airbyte", connection]`.

The workspace file is `LAKEHOUSE_AIRBYTE_WORKSPACE`, else `airbyte/workspace.yml` (the file `lakehouse
airbyte plan|apply|sync` read). The graph is drawn from the file's connections without resolving any
reference; a materialization resolves them (the API URL and token from the environment or Secrets
Manager) and runs the connection's sync with the code `lakehouse airbyte sync CONNECTION` runs:
start a job, follow it to its end, cancel it after the timeout. A job that does not succeed fails the step.

Each `airbyte_landing` source that names a connection (`options.connection`) loads the files that
connection's S3 destination writes, so its bronze streams are drawn downstream of the connection asset:
lineage runs Airbyte connection -> bronze -> staging -> silver -> marts.
"""

# No `from __future__ import annotations`: Dagster reads the run config class from the real annotation.

import os
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from lakehouse.airbyte.spec import WORKSPACE_VARIABLE, ConnectionSpec, declared_connections, workspace_file
from lakehouse.core.errors import ConfigError
from loaders.core.config import SourceConfig

LANDING_FAMILY = "airbyte_landing"


def connection_key(connection: str) -> AssetKey:
    return AssetKey(["airbyte", connection])


class AirbyteSyncConfig(Config):
    """Run config of a connection's sync (the Launchpad shows it): as `lakehouse airbyte sync`'s options."""

    timeout_s: float = Field(default=3600.0, gt=0, description="seconds before the job is cancelled")
    poll_s: float = Field(default=5.0, gt=0, description="seconds between job status reads")


def workspace_connections(path: Path | None = None) -> tuple[Path, dict[str, ConnectionSpec]]:
    """The workspace file and its connections. No file at the default place: no connections; a file
    named by LAKEHOUSE_AIRBYTE_WORKSPACE (or `path`) that does not exist is an error."""
    chosen = path or workspace_file()
    if path is None and not chosen.exists() and not os.environ.get(WORKSPACE_VARIABLE):
        return chosen, {}
    return chosen, declared_connections(chosen)


def connection_assets(path: Path, connections: dict[str, ConnectionSpec]) -> list[AssetsDefinition]:
    return [_connection_asset(path, name, spec) for name, spec in connections.items()]


def _connection_asset(path: Path, name: str, spec: ConnectionSpec) -> AssetsDefinition:
    streams = ", ".join(f"{spec.prefix}{stream.name}" for stream in spec.streams)
    schedule = spec.schedule.cron_expression if spec.schedule.schedule_type == "cron" else "manual"

    @asset(
        key=connection_key(name),
        group_name="airbyte",
        description=f"Airbyte connection `{name}` ({spec.source} -> {spec.destination}: {streams}); a "
        f"materialization runs its sync (`lakehouse airbyte sync {name}`). Airbyte's own schedule: {schedule}.",
        kinds={"airbyte"},
        tags={"source": spec.source},
    )
    def _sync(context: AssetExecutionContext, config: AirbyteSyncConfig) -> MaterializeResult:
        return sync_connection_asset(context, path, name, config)

    return _sync


def sync_connection_asset(
    context: AssetExecutionContext, path: Path, connection: str, config: AirbyteSyncConfig
) -> MaterializeResult:
    from lakehouse.airbyte.spec import load_workspace
    from lakehouse.airbyte.sync import sync_connection

    spec = load_workspace(path)  # read at run time: references resolved now, never at graph load
    outcome = sync_connection(
        spec,
        connection,
        timeout_s=config.timeout_s,
        poll_s=config.poll_s,
        on_start=lambda job_id: context.log.info(f"Airbyte sync job {job_id} of {connection} started"),
    )
    metadata = {
        "job_id": MetadataValue.int(outcome.job_id),
        "connection_id": MetadataValue.text(outcome.connection_id),
        "status": MetadataValue.text(outcome.status),
        "rows_synced": MetadataValue.int(outcome.rows_synced),
        "bytes_synced": MetadataValue.int(outcome.bytes_synced),
    }
    if not outcome.succeeded:
        raise Failure(
            description=f"Airbyte sync job {outcome.job_id} of {connection} ended {outcome.status}; "
            f"fix: see the job's logs in Airbyte (job {outcome.job_id}), then materialize again",
            metadata=metadata,
        )
    context.log.info(f"Airbyte sync job {outcome.job_id} of {connection}: {outcome.rows_synced:,} rows")
    return MaterializeResult(metadata=metadata)


def landing_upstreams(
    configs: list[SourceConfig], path: Path, connections: dict[str, ConnectionSpec]
) -> dict[tuple[str, str], AssetKey]:
    """(source, stream) of each `airbyte_landing` stream -> the asset of the connection writing its files."""
    from loaders.airbyte.landing import landing_connection, landing_stream_name

    upstream: dict[tuple[str, str], AssetKey] = {}
    for config in configs:
        if config.type != LANDING_FAMILY:
            continue
        name = landing_connection(config)
        if name is None:
            continue
        spec = connections.get(name)
        if spec is None:
            raise ConfigError(
                f"{config.path}: key `options.connection`: the Airbyte connection {name!r} is not declared in {path}",
                f"declare it under `connections:` there (or point {WORKSPACE_VARIABLE} at the workspace file that "
                f"does), or use one of: {', '.join(connections) or '(none)'}",
            )
        written = {f"{spec.prefix}{stream.name}" for stream in spec.streams}
        for stream in config.streams:
            folder = landing_stream_name(stream)
            if folder not in written:
                raise ConfigError(
                    f"{config.path}: stream `{stream.name}` reads the Airbyte stream {folder!r}, which the "
                    f"connection {name!r} does not sync",
                    f"add it to the connection's `streams:` in {path}, set the stream's `airbyte_stream:` to "
                    f"one of: {', '.join(sorted(written))}",
                )
            upstream[(config.source, stream.name)] = connection_key(name)
    return upstream
