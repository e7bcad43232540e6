"""`lakehouse orchestrate dev`: the Dagster UI and daemon over `orchestration.definitions`, on this machine;
`lakehouse orchestrate backfill --from DAY --to DAY`: one run of the backfill job per day, in order.

Dagster's state (runs, schedules, sensor cursors) lives in DAGSTER_HOME, by default
`$LAKEHOUSE_HOME/dagster`; loads and dbt act on the environment's lakehouse (LAKEHOUSE_ROOT, the
Thrift server of `lakehouse spark start`, or EMR with DBT_TARGET=emr).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.errors import ConfigError
from lakehouse.core.home import PROJECT_DIR, lakehouse_home

orchestrate_app = typer.Typer(help="The scheduler (Dagster): assets, schedules, SLAs.", no_args_is_help=True)
DEFINITIONS_MODULE = "orchestration.definitions"


# The runs of one backfill rebuild the same Delta tables: the run queue launches them one at a time.
INSTANCE_YAML = """\
# Written by `lakehouse orchestrate` when DAGSTER_HOME had no dagster.yaml; edit freely, it is not rewritten.
run_queue:
  tag_concurrency_limits:
    - key: lakehouse/backfill
      limit: 1
"""


def dagster_home() -> str:
    home = os.environ.get("DAGSTER_HOME") or str(lakehouse_home() / "dagster")
    os.makedirs(home, exist_ok=True)
    instance_yaml = Path(home) / "dagster.yaml"
    if not instance_yaml.exists():
        instance_yaml.write_text(INSTANCE_YAML)
    return home


def dev_command(host: str, port: int) -> list[str]:
    return [
        sys.executable, "-m", "dagster", "dev", "-m", DEFINITIONS_MODULE,
        "-d", str(PROJECT_DIR), "--host", host, "--port", str(port),
    ]  # fmt: skip


@orchestrate_app.command("dev")
@friendly_errors
def dev(
    host: Annotated[str, typer.Option(help="Address the UI listens on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP port of the UI.")] = 3000,
) -> None:
    """Start the Dagster UI (and its daemon, which runs schedules and sensors) until Ctrl-C."""
    _require_dagster()
    env = {**os.environ, "DAGSTER_HOME": dagster_home(), "LAKEHOUSE_HOME": str(lakehouse_home())}
    console.print(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={env['DAGSTER_HOME']}); Ctrl-C stops it.")
    try:
        completed = subprocess.run(dev_command(host, port), env=env, cwd=PROJECT_DIR, check=False)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2, 130):
        raise typer.Exit(completed.returncode)


@orchestrate_app.command("backfill")
@friendly_errors
def backfill(
    first: Annotated[str, typer.Option("--from", help="First day to rebuild, YYYY-MM-DD (UTC).")],
    last: Annotated[str, typer.Option("--to", help="Last day to rebuild, included.")],
    dbt_vars: Annotated[str, typer.Option("--vars", help="More dbt --vars, as YAML or JSON.")] = "",
    exclude: Annotated[list[str] | None, typer.Option(help="dbt --exclude selector (repeatable).")] = None,
) -> None:
    """Rebuild the silver rows loaded on each day of a range, then the marts: one run per day, in order."""
    for option, value in (("--from", first), ("--to", last)):
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                f"{option} {value!r} is not a day", f"write it as YYYY-MM-DD, e.g. {option} 2026-03-01"
            ) from None
    if first > last:
        raise ConfigError(f"the range starts ({first}) after it ends ({last})", "give --from a day before --to")
    _require_dagster()
    os.environ["DAGSTER_HOME"] = dagster_home()  # the runs are recorded where the UI shows them
    from dagster import DagsterInstance

    from orchestration.backfill import JOB_NAME, BackfillConfig, backfill_days, run_backfill
    from orchestration.definitions import defs

    if not any(job.name == JOB_NAME for job in defs.jobs or []):
        raise ConfigError(
            "the dbt project has no model calling loaded_since_last_build, so nothing is partitioned by day",
            "see orchestration/README.md (backfills)",
        )
    job_def = defs.resolve_job_def(JOB_NAME)
    days = backfill_days(job_def, first, last)
    config = BackfillConfig(vars=dbt_vars, exclude=exclude or [])
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(f"backfill {first} to {last}", total=len(days))

        def on_day(run) -> None:
            mark = "[green]ok[/]" if run.success else "[bold red]failed[/]"
            progress.console.print(f"{run.day}: {mark} (run {run.run_id})")
            progress.advance(task)

        with DagsterInstance.get() as instance:
            runs = run_backfill(job_def, first, last, instance=instance, config=config, on_day=on_day)
    failed = [run for run in runs if not run.success]
    if failed:
        day = escape(failed[0].day)
        console.print(
            f"[bold red]error:[/] the run of {day} failed (run {failed[0].run_id}); "
            f"{len(days) - len(runs)} later day(s) not run",
            soft_wrap=True,
        )
        console.print(f"[bold]fix:[/] see the run in the UI (`lakehouse orchestrate dev`), then backfill --from {day}")
        raise typer.Exit(1)
    console.print(f"backfill of {len(runs)} day(s) done: {first} to {last}")


def _require_dagster() -> None:
    try:
        import dagster  # noqa: F401
        import dagster_webserver  # noqa: F401
    except ImportError:
        raise ConfigError(
            "Dagster is not installed", 'install the orchestration extra: pip install -e ".[orchestration]"'
        ) from None
