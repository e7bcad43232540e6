"""One job and schedule per source frequency (UTC).

Each frequency's job loads the streams of that frequency and builds every dbt model, snapshot and seed
downstream of them (with their tests as asset checks). Real-time streams are micro-batched every 10
minutes by their own load-only job (their models are rebuilt by the hourly job, inside the 2-hour SLA);
a continuous consumer would replace that job with a long-running `lakehouse stream` runner.

These jobs are not partitioned: the loads are cursor-based and exactly once, and the silver models
read after their watermark. Backfills of a date range are the separate daily-partitioned job of
`backfill.py`; see orchestration/README.md.
"""

from __future__ import annotations

import os

from dagster import (
    AssetKey,
    AssetSelection,
    DefaultScheduleStatus,
    ScheduleDefinition,
    define_asset_job,
)
from dagster._core.definitions.unresolved_asset_job_definition import UnresolvedAssetJobDefinition

from lakehouse.core.frequency import Frequency

CRON = {
    Frequency.REAL_TIME: "*/10 * * * *",
    Frequency.HOURLY: "5 * * * *",
    Frequency.DAILY: "0 2 * * *",
    Frequency.WEEKLY: "0 3 * * 1",
    Frequency.MONTHLY: "0 4 1 * *",
}


def schedule_status() -> DefaultScheduleStatus:
    """Schedules run where the platform is deployed (LAKEHOUSE_ENV is set by infra/); locally they start
    stopped, so `lakehouse orchestrate dev` does not load on its own until switched on in the UI."""
    return DefaultScheduleStatus.RUNNING if os.environ.get("LAKEHOUSE_ENV") else DefaultScheduleStatus.STOPPED


def frequency_selection(frequencies: dict[AssetKey, Frequency], wanted: set[Frequency], *, downstream: bool):
    keys = [key for key, frequency in frequencies.items() if frequency in wanted]
    if not keys:
        return None
    selection = AssetSelection.assets(*keys)
    return selection.downstream() if downstream else selection


def frequency_jobs(frequencies: dict[AssetKey, Frequency]) -> list[UnresolvedAssetJobDefinition]:
    """realtime_loads, hourly, daily, weekly, monthly: those that have streams."""
    wanted = {
        "realtime_loads": ({Frequency.REAL_TIME}, False),
        "hourly": ({Frequency.REAL_TIME, Frequency.HOURLY}, True),
        "daily": ({Frequency.DAILY}, True),
        "weekly": ({Frequency.WEEKLY}, True),
        "monthly": ({Frequency.MONTHLY}, True),
    }
    jobs = []
    for name, (kinds, downstream) in wanted.items():
        selection = frequency_selection(frequencies, kinds, downstream=downstream)
        if selection is None:
            continue
        jobs.append(define_asset_job(name, selection=selection, description=_JOB_DESCRIPTIONS[name]))
    return jobs


def frequency_schedules(jobs: list[UnresolvedAssetJobDefinition]) -> list[ScheduleDefinition]:
    schedules = []
    status = schedule_status()
    for job in jobs:
        cron = CRON[Frequency.REAL_TIME if job.name == "realtime_loads" else Frequency(job.name)]
        schedules.append(
            ScheduleDefinition(
                name=f"{job.name}_schedule",
                job=job,
                cron_schedule=cron,
                execution_timezone="UTC",
                default_status=status,
            )
        )
    return schedules


_JOB_DESCRIPTIONS = {
    "realtime_loads": "Micro-batch loads of the real-time streams (models: the hourly job).",
    "hourly": "Hourly streams, then every dbt model downstream of them and of the real-time streams.",
    "daily": "Daily streams and the models downstream.",
    "weekly": "Weekly streams and the models downstream.",
    "monthly": "Monthly streams and the models downstream.",
}
