"""`lakehouse orchestrate dev`: the Dagster UI and daemon over `orchestration.definitions`, on this machine.

Dagster's state (runs, schedules, sensor cursors) lives in DAGSTER_HOME, by default
`$LAKEHOUSE_HOME/dagster`; loads and dbt act on the environment's lakehouse (LAKEHOUSE_ROOT, the
Thrift server of `lakehouse spark start`, or EMR with DBT_TARGET=emr).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Annotated

import typer

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.errors import ConfigError
from lakehouse.core.home import PROJECT_DIR, lakehouse_home

orchestrate_app = typer.Typer(help="The scheduler (Dagster): assets, schedules, SLAs.", no_args_is_help=True)
DEFINITIONS_MODULE = "orchestration.definitions"


def dagster_home() -> str:
    home = os.environ.get("DAGSTER_HOME") or str(lakehouse_home() / "dagster")
    os.makedirs(home, exist_ok=True)
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
    try:
        import dagster  # noqa: F401
        import dagster_webserver  # noqa: F401
    except ImportError:
        raise ConfigError(
            "Dagster is not installed", 'install the orchestration extra: pip install -e ".[orchestration]"'
        ) from None
    env = {**os.environ, "DAGSTER_HOME": dagster_home(), "LAKEHOUSE_HOME": str(lakehouse_home())}
    console.print(f"Dagster UI on http://{host}:{port} (DAGSTER_HOME={env['DAGSTER_HOME']}); Ctrl-C stops it.")
    try:
        completed = subprocess.run(dev_command(host, port), env=env, cwd=PROJECT_DIR, check=False)
    except KeyboardInterrupt:
        return
    if completed.returncode not in (0, -2, 130):
        raise typer.Exit(completed.returncode)
