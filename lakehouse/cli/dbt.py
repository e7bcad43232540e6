"""`lakehouse dbt ...` and `lakehouse docs ...`: dbt with the project's profiles, and the docs site."""

from __future__ import annotations

import functools
from typing import Annotated

import typer

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.errors import LakehouseError

docs_app = typer.Typer(help="The dbt docs site.", no_args_is_help=True)


@friendly_errors
def dbt(ctx: typer.Context) -> None:
    """Run dbt with the project's profiles against the Thrift server, e.g. `lakehouse dbt build -s silver`."""
    from lakehouse.dbt_runner import run_dbt

    outcome = run_dbt(list(ctx.args) or ["build"])
    if not outcome.success:
        raise typer.Exit(1)


@docs_app.command("generate")
@friendly_errors
def docs_generate() -> None:
    """Generate the dbt docs site into dbt/target/."""
    from lakehouse.dbt_runner import docs_index, run_dbt

    outcome = run_dbt(["docs", "generate"])
    if not outcome.success:
        raise typer.Exit(1)
    console.print(f"Docs site: {docs_index()}")


@docs_app.command("serve")
@friendly_errors
def docs_serve(port: Annotated[int, typer.Option(help="HTTP port.")] = 8080) -> None:
    """Serve the generated docs site on http://127.0.0.1:PORT."""
    import http.server

    from lakehouse.dbt_runner import docs_index, target_dir

    if not docs_index().exists():
        raise LakehouseError("the docs site has not been generated yet", "run `lakehouse docs generate` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target_dir()))
    console.print(f"Serving {target_dir()} on http://127.0.0.1:{port} (Ctrl-C stops)")
    http.server.ThreadingHTTPServer(("127.0.0.1", port), handler).serve_forever()
