"""Backfills of a date range: the daily-partitioned job `backfill_loaded_days`, one run per day.

The silver models are incremental by load time: each reads the bronze rows loaded after its
watermark (the macro `loaded_since_last_build`, dbt/macros/). A day's partition of this job runs
`dbt build` of every model that calls that macro and everything downstream of them (the marts and
snapshots, with their tests), with `--vars '{backfill_start: <day>T00:00Z, backfill_end: <next day>T00:00Z}'`:
each of those models merges again, through today's logic, the rows loaded that day that it has
already read, and the watermarks do not move. The marts, full tables, are rebuilt from silver.

The loads are not partitioned: they are cursor-based and exactly once (a changed range of source data is
reloaded with `lakehouse load SOURCE --stream S --full-refresh`). Launch a backfill from the job's
Partitions tab in the UI, or with `lakehouse orchestrate backfill --from DAY --to DAY`, which runs the
days one after another in this process (`run_backfill`).
"""

# No `from __future__ import annotations` here: Dagster reads the run config class from the real annotation.

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import yaml
from dagster import (
    Config,
    DagsterInstance,
    DailyPartitionsDefinition,
    JobDefinition,
    OpExecutionContext,
    PartitionKeyRange,
    job,
    op,
)
from dagster_dbt import DbtCliResource
from pydantic import Field

from lakehouse.core.errors import ConfigError
from orchestration.dbt import TRANSLATOR, read_manifest

JOB_NAME = "backfill_loaded_days"
WINDOW_MACRO = "loaded_since_last_build"
START_VARIABLE = "LAKEHOUSE_BACKFILL_START"
DEFAULT_START = "2025-01-01"
BACKFILL_TAG = "lakehouse/backfill"  # runs of one backfill write the same tables: the run queue limits it to 1


class BackfillConfig(Config):
    """Run config of a backfill day (the Launchpad shows it): extra `--vars` and `--exclude`."""

    vars: str = Field(default="", description="more dbt --vars as YAML or JSON; the day's window is added")
    exclude: list[str] = Field(default_factory=list, description="dbt --exclude selectors")


def partitions() -> DailyPartitionsDefinition:
    """Every completed UTC day since LAKEHOUSE_BACKFILL_START (default 2025-01-01)."""
    start = os.environ.get(START_VARIABLE) or DEFAULT_START
    try:
        date.fromisoformat(start)
    except ValueError:
        raise ConfigError(
            f"{START_VARIABLE}={start!r} is not a date", f"set {START_VARIABLE} to a day such as {DEFAULT_START}"
        ) from None
    return DailyPartitionsDefinition(start_date=start, timezone="UTC")


def windowed_models(manifest: Path) -> list[str]:
    """The models whose incremental filter is the load-time window: those calling the macro. Read from
    the SQL, not `depends_on`: dbt records no call made inside `{% if is_incremental() %}` at parse time."""
    nodes = read_manifest(manifest)["nodes"].values()
    return sorted(
        node["name"]
        for node in nodes
        if node["resource_type"] == "model" and f"{WINDOW_MACRO}(" in (node.get("raw_code") or "")
    )


def window_vars(extra: str, start: datetime, end: datetime) -> str:
    """The run's dbt --vars: the config's, plus the day's window (ISO timestamps with their offset)."""
    values = yaml.safe_load(extra) if extra.strip() else {}
    if not isinstance(values, dict):
        raise ConfigError(f"the backfill's `vars` is not a mapping: {extra!r}", "write it as '{name: value}'")
    return json.dumps({**values, "backfill_start": start.isoformat(), "backfill_end": end.isoformat()})


def backfill_job(manifest: Path) -> JobDefinition:
    """The daily-partitioned job rebuilding the windowed models (and what is downstream) one day per run."""
    models = windowed_models(manifest)
    selection = " ".join(f"{name}+" for name in models)

    @op(
        name="rebuild_loaded_day",
        description=f"dbt build --select <the {len(models)} models calling {WINDOW_MACRO}>+ for one day's loads",
        out={},
    )
    def rebuild_loaded_day(context: OpExecutionContext, dbt: DbtCliResource, config: BackfillConfig) -> Iterator:
        window = context.partition_time_window
        arguments = ["build", "--select", selection, "--vars", window_vars(config.vars, window.start, window.end)]
        if config.exclude:
            arguments += ["--exclude", " ".join(config.exclude)]
        context.log.info(f"backfill of the rows loaded in [{window.start.isoformat()}, {window.end.isoformat()})")
        yield from dbt.cli(arguments, manifest=manifest, dagster_dbt_translator=TRANSLATOR, context=context).stream()

    @job(
        name=JOB_NAME,
        partitions_def=partitions(),
        tags={BACKFILL_TAG: "dbt"},
        description="Backfill of a date range, one run per UTC day: the silver models merge again the rows "
        "loaded that day (through today's logic), then the marts are rebuilt. See orchestration/README.md.",
    )
    def backfill_loaded_days() -> None:
        rebuild_loaded_day()

    return backfill_loaded_days


@dataclass(frozen=True)
class DayRun:
    day: str
    run_id: str
    success: bool


def backfill_days(job_def: JobDefinition, first: str, last: str) -> list[str]:
    """The partition keys from `first` to `last` (inclusive); a clear error outside the job's days."""
    partitions_def = job_def.partitions_def
    assert partitions_def is not None
    keys = partitions_def.get_partition_keys()
    for day in (first, last):
        if day not in keys:
            oldest, newest = (keys[0], keys[-1]) if keys else ("-", "-")
            raise ConfigError(
                f"{day} is not a day the backfill job can run (its days: {oldest} to {newest}, completed UTC days)",
                f"choose days in that range; set {START_VARIABLE} for days before {oldest}",
            )
    if first > last:
        raise ConfigError(f"the range starts ({first}) after it ends ({last})", "give --from a day before --to")
    return list(partitions_def.get_partition_keys_in_range(PartitionKeyRange(first, last)))


def run_backfill(
    job_def: JobDefinition,
    first: str,
    last: str,
    *,
    instance: DagsterInstance,
    config: BackfillConfig | None = None,
    on_day: Callable[[DayRun], None] | None = None,
) -> list[DayRun]:
    """One run per day, oldest first, in this process; stops at the first failed day."""
    days = backfill_days(job_def, first, last)
    run_config = {"ops": {"rebuild_loaded_day": {"config": (config or BackfillConfig()).model_dump()}}}
    done: list[DayRun] = []
    for day in days:
        result = job_def.execute_in_process(
            run_config=run_config,
            partition_key=day,
            instance=instance,
            tags={BACKFILL_TAG: "dbt", "lakehouse/backfill_range": f"{first}..{last}"},
            raise_on_error=False,
        )
        done.append(DayRun(day, result.run_id, result.success))
        if on_day is not None:
            on_day(done[-1])
        if not result.success:
            break
    return done
