"""`dbt build` of the company under two sets of Spark settings, side by side in one run.

    python bench/bench_dbt_build.py                 # scale 0.2 (the test suite's company), both settings
    python bench/bench_dbt_build.py --scale 1       # the demo's company
    python bench/bench_dbt_build.py --try spark.sql.codegen.wholeStage=true   # a third: project + this

Generates the synthetic company once, then for each settings profile: a fresh LAKEHOUSE_HOME with a
copy of it, a fresh local root, every embedded source loaded, a local Spark Thrift server started with
the profile's settings, and one timed `dbt build` (every model, seed, snapshot and test, as the demo
runs it). The profiles:

- `spark defaults`: Spark's and Delta's own values for the settings the project changes;
- `project`: the server as `lakehouse spark start` runs it (`SMALL_DATA_CONF` and `LOCAL_SERVER_CONF` in
  lakehouse/platform/spark.py);
- `tried` (with `--try KEY=VALUE`, repeatable): the project's settings plus those, to test a candidate.

Prints each build's wall time, node count and the ratio. Printing only: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from company import generate
from lakehouse.core.storage import LakehouseRoot
from lakehouse.dbt_runner import run_dbt
from lakehouse.demo import load_and_register
from lakehouse.platform.jars import JarSet
from lakehouse.platform.process import free_ports
from lakehouse.platform.spark import LOCAL_SERVER_CONF, SMALL_DATA_CONF, SparkThriftServer, ThriftEndpoint
from lakehouse.source_files import all_sources

SEED = 7
DAYS = 30
# Spark's, Delta's and HiveServer2's own defaults for every key of SMALL_DATA_CONF and LOCAL_SERVER_CONF.
SPARK_DEFAULTS = {
    "spark.sql.shuffle.partitions": "200",
    "spark.databricks.delta.snapshotPartitions": "50",
    "spark.sql.codegen.wholeStage": "true",
    "spark.sql.codegen.factoryMode": "FALLBACK",
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "10000",
    "spark.hadoop.hive.server2.enable.doAs": "true",
    "spark.hadoop.hive.server2.async.exec.threads": "100",
    "spark.hadoop.hive.server2.async.exec.keepalive.time": "10s",
}
PROFILES = {"spark defaults": SPARK_DEFAULTS, "project": {}}


@dataclass(frozen=True)
class Timing:
    profile: str
    seconds: float
    nodes: int


def timed_build(profile: str, conf: dict[str, str], work: Path, company: Path, threads: list[str]) -> Timing:
    home = work / profile.replace(" ", "-")
    shutil.copytree(company, home / "samples" / "company")
    (home / "root").mkdir()
    os.environ.update(
        {"LAKEHOUSE_HOME": str(home), "DBT_TARGET_PATH": str(home / "target"), "DBT_LOG_PATH": str(home / "logs")}
    )
    root = LakehouseRoot.parse(str(home / "root"))
    endpoint = ThriftEndpoint("127.0.0.1", free_ports(1)[0])
    os.environ["LAKEHOUSE_THRIFT_HOST"], os.environ["LAKEHOUSE_THRIFT_PORT"] = endpoint.host, str(endpoint.port)
    server = SparkThriftServer(root, endpoint, conf)
    server.start()
    try:
        load_and_register(root, endpoint, all_sources())
        print(f"{profile}: loaded; dbt build ...", flush=True)
        began = time.perf_counter()
        outcome = run_dbt(["build", *threads])  # as `lakehouse demo` runs it
        elapsed = time.perf_counter() - began
    finally:
        server.stop()
    if not outcome.success:
        raise SystemExit(f"{profile}: dbt build failed:\n" + "\n".join(outcome.failures))
    return Timing(profile, elapsed, sum(outcome.statuses.values()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--profile", choices=sorted(PROFILES), action="append", help="only these (repeatable)")
    parser.add_argument("--try", dest="tried", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--threads", type=int, help="dbt threads (default: dbt/profiles.yml's, 2)")
    options = parser.parse_args()
    profiles = {name: PROFILES[name] for name in options.profile or PROFILES}
    if options.tried:
        profiles["tried"] = dict(item.split("=", 1) for item in options.tried)
    assert set(SPARK_DEFAULTS) >= {*SMALL_DATA_CONF, *LOCAL_SERVER_CONF}, "every project setting needs its default here"

    JarSet.for_installed().resolve()
    with tempfile.TemporaryDirectory(prefix="bench-dbt-build-") as tmp:
        work = Path(tmp)
        company = work / "company"
        print(f"generating the company: scale {options.scale:g}, {DAYS} days ...", flush=True)
        generate(company, seed=SEED, scale=options.scale, days=DAYS)
        threads = ["--threads", str(options.threads)] if options.threads else []
        timings = [timed_build(name, conf, work, company, threads) for name, conf in profiles.items()]

    print()
    print(f"dbt build of the company at scale {options.scale:g}, {options.threads or 'profile'} threads:")
    for timing in timings:
        print(f"  {timing.profile:<16} {timing.seconds:8.1f} s  ({timing.nodes} nodes)")
    first = timings[0]
    for timing in timings[1:]:
        print(f"  {timing.profile} / {first.profile}: {timing.seconds / first.seconds:.2f}")


if __name__ == "__main__":
    main()
