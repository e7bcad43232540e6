"""`lakehouse airbyte ...`: connections as code (plan, apply, sync) and local connectors (install, spec)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.home import PROJECT_DIR

airbyte_app = typer.Typer(help="Airbyte: connections as code (airbyte/), connectors run locally.", no_args_is_help=True)
WorkspaceFile = Annotated[
    Path, typer.Option("--file", "-f", help="The workspace file.", envvar="LAKEHOUSE_AIRBYTE_WORKSPACE")
]
DEFAULT_FILE = PROJECT_DIR / "airbyte" / "workspace.yml"  # = lakehouse.airbyte.spec.DEFAULT_WORKSPACE


@airbyte_app.command()
@friendly_errors
def plan(file: WorkspaceFile = DEFAULT_FILE) -> None:
    """Show what `apply` would change in the workspace: creates, field-level updates, deletes."""
    from lakehouse.airbyte.client import AirbyteClient
    from lakehouse.airbyte.plan import Workspace, make_plan
    from lakehouse.airbyte.spec import load_workspace

    spec = load_workspace(file)
    client = AirbyteClient(spec)
    for line in make_plan(spec, Workspace.read(client)).lines():
        console.print(escape(line), soft_wrap=True)


@airbyte_app.command()
@friendly_errors
def apply(file: WorkspaceFile = DEFAULT_FILE) -> None:
    """Make the workspace match the file (idempotent: a second apply changes nothing)."""
    from lakehouse.airbyte.client import AirbyteClient
    from lakehouse.airbyte.plan import Workspace, apply_plan, make_plan
    from lakehouse.airbyte.spec import load_workspace

    spec = load_workspace(file)
    client = AirbyteClient(spec)
    workspace = Workspace.read(client)
    changes = make_plan(spec, workspace)
    if changes.empty:
        console.print("No changes: the workspace matches the file.")
        return
    for line in apply_plan(client, spec, changes, workspace):
        console.print(f"applied {escape(line)}", soft_wrap=True)


@airbyte_app.command()
@friendly_errors
def sync(
    connection: Annotated[str, typer.Argument(help="Connection name, as in the workspace file.")],
    file: WorkspaceFile = DEFAULT_FILE,
    timeout: Annotated[float, typer.Option(help="Seconds before the job is cancelled.")] = 3600.0,
    poll: Annotated[float, typer.Option(help="Seconds between job status reads.")] = 5.0,
) -> None:
    """Start a sync job for CONNECTION and follow it to the end; exit 1 when it does not succeed."""
    from lakehouse.airbyte.spec import load_workspace
    from lakehouse.airbyte.sync import job_status, sync_connection

    spec = load_workspace(file)
    with console.status(f"sync of {connection}: starting") as status:
        started: list[int] = []

        def on_poll(job: object) -> None:
            rows = getattr(job, "rows_synced", None) or 0
            status.update(f"sync job {started[0]} of {connection}: {job_status(job)}, {rows:,} rows")

        outcome = sync_connection(
            spec, connection, timeout_s=timeout, poll_s=poll, on_start=started.append, on_poll=on_poll
        )
    job_id = outcome.job_id
    console.print(f"sync job {job_id} of {escape(connection)}: {outcome.status}, {outcome.rows_synced:,} rows")
    if not outcome.succeeded:
        console.print(f"[bold red]error:[/] the job ended {outcome.status}; see its logs in Airbyte (job {job_id})")
        raise typer.Exit(1)


@airbyte_app.command()
@friendly_errors
def install(pin: Annotated[str, typer.Argument(help="airbyte-source-<name>==<version>")]) -> None:
    """Install a PyPI connector in its own venv (~/.cache/lakehouse/airbyte/venvs/)."""
    from loaders.airbyte.venv import Connector

    console.print(f"{pin}: {Connector.parse(pin).install()}")


@airbyte_app.command()
@friendly_errors
def spec(pin: Annotated[str, typer.Argument(help="airbyte-source-<name>==<version>")]) -> None:
    """Print an installed connector's configuration spec (its `spec` command)."""
    import json

    from loaders.airbyte.protocol import ConnectorProcess
    from loaders.airbyte.venv import Connector

    connector = Connector.parse(pin)
    document = ConnectorProcess(connector.require(), {}, name=connector.name).spec()
    console.print_json(json.dumps(document.get("connectionSpecification", document)))
