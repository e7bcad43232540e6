"""Everything the scheduler runs, as one `Definitions`: `dagster dev -m orchestration.definitions`.

Airbyte connection assets for the connections of the workspace file (LAKEHOUSE_AIRBYTE_WORKSPACE, default
airbyte/workspace.yml), loader assets for every stream of the source files (LAKEHOUSE_SOURCES, default
sources/embedded; an `airbyte_landing` stream downstream of the connection it names), dbt assets for the
project's models, snapshots and seeds with tests as checks, a job and schedule per frequency, the
daily-partitioned backfill job, freshness checks for the SLA and the alert sensors. `build_definitions`
builds the same for other sources, another workspace file or another dbt project (the tests use it).
"""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions, RetryPolicy, multiprocess_executor

from lakehouse.dbt_runner import DBT_DIR
from loaders.core.config import SourceConfig
from orchestration.airbyte import connection_assets, landing_upstreams, workspace_connections
from orchestration.alerts import freshness_checks, freshness_sensor, run_failure_alerts, sla_alert_sensor
from orchestration.backfill import backfill_job, windowed_models
from orchestration.bronze import LOAD_RETRY, loader_assets, stream_frequencies
from orchestration.dbt import dbt_project_assets, dbt_resource, ensure_manifest, marts, upstream_sources
from orchestration.schedules import frequency_jobs, frequency_schedules

MAX_CONCURRENT_STEPS = 4  # loads in parallel; the dbt step runs once they are done


def build_definitions(
    configs: list[SourceConfig] | None = None,
    *,
    retry_policy: RetryPolicy = LOAD_RETRY,
    airbyte_workspace: Path | None = None,
    dbt_project: Path = DBT_DIR,
) -> Definitions:
    from lakehouse.source_files import all_sources

    configs = all_sources() if configs is None else configs
    workspace, connections = workspace_connections(airbyte_workspace)
    upstream = landing_upstreams(configs, workspace, connections)
    manifest = ensure_manifest(dbt_project)
    frequencies = stream_frequencies(configs)
    slas = {}
    for unique_id, key in marts(manifest).items():
        read = [frequencies[source] for source in upstream_sources(manifest, unique_id) if source in frequencies]
        if read:
            slas[key] = min(frequency.sla_hours for frequency in read)
    checks = freshness_checks(slas)
    jobs = frequency_jobs(frequencies)
    backfill = [backfill_job(manifest)] if windowed_models(manifest) else []
    return Definitions(
        assets=[
            *connection_assets(workspace, connections),
            *loader_assets(configs, retry_policy=retry_policy, upstream=upstream),
            dbt_project_assets(manifest),
        ],
        asset_checks=checks,
        jobs=[*jobs, *backfill],
        schedules=frequency_schedules(jobs),
        sensors=[run_failure_alerts, sla_alert_sensor(slas), freshness_sensor(checks)],
        resources={"dbt": dbt_resource(dbt_project)},
        executor=multiprocess_executor.configured({"max_concurrent": MAX_CONCURRENT_STEPS}),
    )


defs = build_definitions()
