"""`lakehouse spark ...` and `lakehouse s3 ...`: the local Spark Thrift server and S3 server."""

from __future__ import annotations

from typing import Annotated

import typer

from lakehouse.cli.errors import console, friendly_errors
from lakehouse.core.storage import LakehouseRoot

spark_app = typer.Typer(help="The local Spark Thrift server (what EMR runs on port 10001).", no_args_is_help=True)
s3_app = typer.Typer(help="A local S3-compatible server (SeaweedFS) for running on s3://.", no_args_is_help=True)


@spark_app.command("setup")
@friendly_errors
def spark_setup() -> None:
    """Download the Delta and hadoop-aws jars matching the installed pyspark (once, into a cache)."""
    from lakehouse.platform.jars import JarSet

    jars = JarSet.for_installed()
    with console.status(f"Resolving Delta {jars.delta_version} and hadoop-aws {jars.hadoop_version}…"):
        paths = jars.resolve()
    console.print(f"{len(paths)} jars in {jars.folder}")


@spark_app.command("start")
@friendly_errors
def spark_start(
    timeout: Annotated[float, typer.Option(help="Seconds to wait for the port.")] = 240.0,
) -> None:
    """Start the Thrift server for LAKEHOUSE_ROOT (does nothing when it already runs)."""
    from lakehouse.platform.spark import SparkThriftServer

    server = SparkThriftServer(LakehouseRoot.from_env())
    with console.status("Starting the Spark Thrift server…"):
        state, started = server.start(timeout=timeout)
    verb = "started" if started else "already running"
    console.print(
        f"Spark Thrift server {verb}: {state.host}:{state.port} pid {state.pid}, root {state.details['root']}"
    )


@spark_app.command("stop")
@friendly_errors
def spark_stop() -> None:
    """Stop the Thrift server and every process it started."""
    from lakehouse.platform.spark import thrift_process

    stopped = thrift_process().stop()
    console.print("Spark Thrift server stopped." if stopped else "No Spark Thrift server was running.")


@spark_app.command("status")
@friendly_errors
def spark_status() -> None:
    """Show whether the Thrift server runs, where, and for which root."""
    from lakehouse.platform.process import port_open
    from lakehouse.platform.spark import thrift_process

    state = thrift_process().read_state()
    if state is None:
        console.print("Spark Thrift server: not running.")
        raise typer.Exit(1)
    listening = "listening" if port_open(state.host, state.port) else "starting (port not open yet)"
    console.print(f"Spark Thrift server: pid {state.pid}, {state.host}:{state.port} {listening}")
    console.print(f"  root {state.details.get('root')}  log {state.log}")


@s3_app.command("start")
@friendly_errors
def s3_start(bucket: Annotated[str, typer.Option(help="Bucket to create.")] = "lakehouse") -> None:
    """Start SeaweedFS with an S3 gateway on loopback and create the bucket."""
    from lakehouse.platform.s3 import SeaweedS3

    store = SeaweedS3()
    _state, started = store.start(bucket=bucket)
    console.print(f"S3 server {'started' if started else 'already running'}: {store.endpoint} (bucket {bucket})")
    console.print('Point the platform at it with: eval "$(lakehouse s3 env)"')


@s3_app.command("stop")
@friendly_errors
def s3_stop() -> None:
    """Stop the local S3 server."""
    from lakehouse.platform.s3 import SeaweedS3

    console.print("S3 server stopped." if SeaweedS3().stop() else "No S3 server was running.")


@s3_app.command("status")
@friendly_errors
def s3_status() -> None:
    from lakehouse.platform.s3 import SeaweedS3

    state = SeaweedS3().status()
    if state is None:
        console.print("S3 server: not running.")
        raise typer.Exit(1)
    console.print(f"S3 server: pid {state.pid}, {state.details['endpoint']}, data in {state.details['data']}")


@s3_app.command("env")
@friendly_errors
def s3_env(bucket: Annotated[str, typer.Option(help="Bucket for LAKEHOUSE_ROOT.")] = "lakehouse") -> None:
    """Print `export` lines that point LAKEHOUSE_ROOT and the AWS variables at the local S3 server."""
    from lakehouse.platform.s3 import SeaweedS3

    for key, value in {**SeaweedS3().env(), "LAKEHOUSE_ROOT": f"s3://{bucket}"}.items():
        print(f"export {key}={value}")
