"""What a fresh local Spark Thrift server costs before it does any work, under JVM options side by side.

    python bench/bench_spark_start.py                                  # the server as the project starts it
    python bench/bench_spark_start.py --jvm=-XX:+UseG1GC --jvm=-XX:TieredStopAtLevel=1

For each set of options (the first is always the project's own): a fresh LAKEHOUSE_HOME and root, the
server started, then one connection that creates a database and a Delta table and reads it back. Prints
the wall time and the server process's CPU seconds (user + system, from /proc) at two points: when the
server accepts connections, and after that first table. Each test module that starts its own server pays
this; most of it is the JIT compiler warming up. Printing only: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from lakehouse.catalog import thrift_cursor
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.jars import JarSet
from lakehouse.platform.process import free_ports, process_cpu_seconds
from lakehouse.platform.spark import SparkThriftServer, ThriftEndpoint


@dataclass(frozen=True)
class StartCost:
    options: str
    ready_wall: float
    ready_cpu: float
    table_wall: float
    table_cpu: float


def one_start(options: str, work: Path) -> StartCost:
    os.environ["LAKEHOUSE_HOME"] = str(Path(tempfile.mkdtemp(prefix="home-", dir=work)))
    root = LakehouseRoot.parse(tempfile.mkdtemp(prefix="root-", dir=work))
    endpoint = ThriftEndpoint("127.0.0.1", free_ports(1)[0])
    server = SparkThriftServer(root, endpoint, java_options=options)
    began = time.perf_counter()
    state, _ = server.start()
    ready = (time.perf_counter() - began, process_cpu_seconds(state.pid))
    try:
        with thrift_cursor(endpoint) as cursor:
            cursor.execute("create database if not exists bench")
            cursor.execute("create table bench.first using delta as select 1 as id")
            cursor.execute("select * from bench.first")
            cursor.fetchall()
        table = (time.perf_counter() - began, process_cpu_seconds(state.pid))
    finally:
        server.stop()
    return StartCost(options or "(project)", *ready, *table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jvm", action="append", default=[], metavar="OPTIONS", help="JVM options to add (repeatable)")
    options = parser.parse_args()
    JarSet.for_installed().resolve()
    with tempfile.TemporaryDirectory(prefix="bench-spark-start-") as tmp:
        costs = [one_start(jvm, Path(tmp)) for jvm in ["", *options.jvm]]
    print()
    print(f"{'JVM options':<48} {'ready':>16} {'first table':>20}")
    for cost in costs:
        print(
            f"{cost.options:<48} {cost.ready_wall:5.1f} s {cost.ready_cpu:5.1f} cpu-s"
            f" {cost.table_wall:7.1f} s {cost.table_cpu:6.1f} cpu-s"
        )


if __name__ == "__main__":
    main()
