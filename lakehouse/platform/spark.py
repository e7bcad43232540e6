"""The local Spark Thrift Server: what EMR runs on port 10001, started from the pip `pyspark`.

It runs `HiveThriftServer2` with the Delta extensions, an embedded Derby metastore and a
warehouse under the lakehouse root, so dbt-spark (`method: thrift`) and BI tools talk to the
same kind of endpoint locally as in production. One server serves one root: its metastore lives
in `.lakehouse/spark/<root-id>/`, so two roots never share table definitions.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from lakehouse.core.errors import PlatformError
from lakehouse.core.home import lakehouse_home
from lakehouse.core.storage import LakehouseRoot
from lakehouse.platform.jars import JarSet, spark_home
from lakehouse.platform.process import ManagedServer, ServerState, port_open

DEFAULT_PORT = 10001  # EMR's Spark Thrift port, so profiles and BI settings read the same
THRIFT_CLASS = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"


@dataclass(frozen=True)
class ThriftEndpoint:
    host: str
    port: int

    @classmethod
    def from_env(cls) -> ThriftEndpoint:
        raw = os.environ.get("LAKEHOUSE_THRIFT_PORT", str(DEFAULT_PORT))
        if not raw.isdigit():
            raise PlatformError(
                f"LAKEHOUSE_THRIFT_PORT={raw!r} is not a port number", "set it to a number such as 10001"
            )
        return cls(os.environ.get("LAKEHOUSE_THRIFT_HOST", "127.0.0.1"), int(raw))

    def require_reachable(self) -> None:
        if not port_open(self.host, self.port, timeout=2.0):
            raise PlatformError(
                f"cannot reach the Spark Thrift server at {self.host}:{self.port} (nothing is listening)",
                "start the local one with `lakehouse spark start`, or set LAKEHOUSE_THRIFT_HOST and "
                "LAKEHOUSE_THRIFT_PORT to a running server (EMR listens on 10001)",
            )


def thrift_process() -> ManagedServer:
    """The one local Thrift server's process handle (state in `.lakehouse/spark/`)."""
    return ManagedServer("Spark Thrift server", lakehouse_home() / "spark")


def find_java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        if candidate.exists():
            return str(candidate)
        raise PlatformError(
            f"JAVA_HOME={java_home} has no bin/java",
            "point JAVA_HOME at a Java 17 installation, or unset it to use `java` from PATH",
        )
    java = shutil.which("java")
    if java is None:
        raise PlatformError(
            "Java is not installed (no `java` on PATH and no JAVA_HOME); Spark needs Java 17",
            "install it (`apt-get install openjdk-17-jre-headless`) or set JAVA_HOME",
        )
    return java


# Settings for the small data of a local or test lakehouse (a few hundred thousand rows, two cores);
# `bench/bench_dbt_build.py` times a build with and without them.
SMALL_DATA_CONF = {
    # A few shuffle partitions instead of 200.
    "spark.sql.shuffle.partitions": os.environ.get("LAKEHOUSE_SHUFFLE_PARTITIONS", "4"),
    # Delta rebuilds a table's state from its log with this many tasks each time the table has a new
    # version (default 50): with dozens of small tables changing during a build, most of them empty.
    "spark.databricks.delta.snapshotPartitions": "2",
    # VACUUM spreads its file listing and deletes over this many tasks (default 10,000): 30 s for a
    # table of a few files, 3.5 s with 4 (measured here; the erasure vacuums every table it touched).
    "spark.sql.sources.parallelPartitionDiscovery.parallelism": "4",
    # Interpret queries instead of generating Java for each (whole-stage code generation) and for its
    # expressions. Every dbt statement is a new query over a few thousand rows: compiling its generated
    # classes (Janino, then the JIT) cost more than running them. Two alternating pairs of company
    # builds (scale 0.2, 4 threads): 246.3 s and 236.3 s with generation, 195.2 s and 197.0 s without;
    # the server's CPU 475 and 473 s against 387 and 388 s (bench/README.md). For large data on EMR the
    # emr target keeps Spark's defaults: these are the local server's settings only.
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
}

# The local server's JVM: the parallel collector instead of G1 (the default on a machine of 2 cores and
# more than 2 GB). A build's heap is small and short-lived, and G1's concurrent work and write barriers
# cost more CPU than the parallel collector's pauses. Three alternating pairs of company builds (scale
# 0.2, 4 threads): 143.7, 158.7 and 163.0 s with it (280, 303, 319 CPU-s), 162.2, 185.0 and 179.5 s
# with G1 (312, 361, 357 CPU-s): 12 % faster, 15 % less CPU (bench/README.md).
LOCAL_JVM_OPTIONS = ["-XX:+UseParallelGC"]

# Settings for the local server's Thrift front end (HiveServer2), passed as `spark.hadoop.*` so that
# `conf` can override them. A local server serves one user:
LOCAL_SERVER_CONF = {
    # Without impersonation. With it, each session runs as its own proxy user, and Spark's shared Hive
    # client then rebuilds its metastore connection (and parses Hive's XML configuration) on catalog
    # calls from another session than the last: 15 % of the server's sampled CPU in a profiled build
    # with dbt's four connections, 5 % without (the build's wall time did not measurably change).
    "spark.hadoop.hive.server2.enable.doAs": "false",
    # A few statement threads that stay alive, instead of up to 100 that exit after 10 s idle: each new
    # thread opens its own metastore store.
    "spark.hadoop.hive.server2.async.exec.threads": "8",
    "spark.hadoop.hive.server2.async.exec.keepalive.time": "3600s",
}


class SparkThriftServer:
    def __init__(
        self,
        root: LakehouseRoot,
        endpoint: ThriftEndpoint | None = None,
        conf: dict[str, str] | None = None,
        java_options: str = "",
    ) -> None:
        """`conf` adds Spark settings or overrides the server's own (see `_command`); `java_options` are
        added to the driver JVM's (`bench/bench_spark_start.py` compares some)."""
        self.root = root
        self.endpoint = endpoint or ThriftEndpoint.from_env()
        self.conf = conf or {}
        self.java_options = java_options
        root_id = hashlib.sha256(root.uri.encode()).hexdigest()[:12]
        self.server = thrift_process()
        self.home = self.server.state_dir
        self.metastore_dir = self.home / "metastore" / root_id

    def status(self) -> ServerState | None:
        return self.server.read_state()

    def start(self, *, timeout: float = 240.0) -> tuple[ServerState, bool]:
        """Start the server unless it already runs. Returns (state, started_now); concurrent starts start one."""
        with self.server.lock():
            return self._start(timeout)

    def _start(self, timeout: float) -> tuple[ServerState, bool]:
        running = self.status()
        if running is not None:
            if running.details.get("root") != self.root.uri or running.port != self.endpoint.port:
                raise PlatformError(
                    f"a Spark Thrift server already runs for root {running.details.get('root')} on port "
                    f"{running.port} (pid {running.pid})",
                    "stop it first with `lakehouse spark stop`, then start it for the new root",
                )
            return running, False
        java = find_java()
        jars = JarSet.for_installed().jars()
        self.root.check()
        state = self.server.launch(
            self._command(jars),
            host=self.endpoint.host,
            port=self.endpoint.port,
            env=self._env(java),
            details={"root": self.root.uri, "metastore": str(self.metastore_dir)},
            timeout=timeout,
        )
        return state, True

    def stop(self, timeout: float = 30.0) -> bool:
        """SIGTERM, then SIGKILL after `timeout` seconds. False when no server was running."""
        return self.server.stop(timeout=timeout)

    def _env(self, java: str) -> dict[str, str]:
        env = dict(os.environ)
        env["SPARK_HOME"] = str(spark_home())
        env["JAVA_HOME"] = str(Path(java).resolve().parents[1])
        env["SPARK_LOG_DIR"] = str(self.home / "logs")
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        return env

    def _jvm_defaults(self) -> list[str]:
        """LOCAL_JVM_OPTIONS, but not the collector when `java_options` picks one: the JVM refuses two."""
        if re.search(r"-XX:\+Use\w+GC\b", self.java_options):
            return [option for option in LOCAL_JVM_OPTIONS if not option.endswith("GC")]
        return LOCAL_JVM_OPTIONS

    def _command(self, jars: list[Path]) -> list[str]:
        self.metastore_dir.mkdir(parents=True, exist_ok=True)
        conf = {
            "spark.master": os.environ.get("LAKEHOUSE_SPARK_MASTER", "local[*]"),
            "spark.driver.memory": os.environ.get("LAKEHOUSE_SPARK_MEMORY", "4g"),
            "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
            "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
            "spark.sql.warehouse.dir": self.root.layer_uri("warehouse"),
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={self.metastore_dir / 'metastore_db'};create=true"
            ),
            "spark.driver.extraJavaOptions": " ".join(
                [f"-Dderby.system.home={self.metastore_dir}", *self._jvm_defaults(), self.java_options]
            ).strip(),
            "spark.sql.session.timeZone": "UTC",
            **SMALL_DATA_CONF,
            **LOCAL_SERVER_CONF,
            "spark.ui.enabled": "false",
            "spark.databricks.delta.schema.autoMerge.enabled": "false",
            # Delta answers a bare min/max over a table from its log statistics, and for a date column
            # that answer fails under the Thrift server (ClassCastException: LocalDate to java.sql.Date),
            # so `select max(order_date) from sales.fct_orders` from a BI tool would error. Scan instead.
            "spark.databricks.delta.optimizeMetadataQuery.enabled": "false",
            **s3a_conf(),
            **self.conf,
        }
        command = [
            str(spark_home() / "bin" / "spark-submit"),
            "--class", THRIFT_CLASS,
            "--name", "lakehouse-thrift",
            # On the driver's own classpath, not --jars: the Thrift server runs queries on threads whose
            # class loader does not see --jars, and Delta then fails with NoClassDefFoundError.
            "--driver-class-path", ":".join(str(j) for j in jars),
        ]  # fmt: skip
        for key, value in conf.items():
            command += ["--conf", f"{key}={value}"]
        command += [
            "--hiveconf", f"hive.server2.thrift.port={self.endpoint.port}",
            "--hiveconf", f"hive.server2.thrift.bind.host={self.endpoint.host}",
            "spark-internal",
        ]  # fmt: skip
        return command


def s3a_conf() -> dict[str, str]:
    """S3A settings from the standard AWS variables. Credentials are not put on the command line:
    S3A's default provider chain reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment."""
    conf = {"spark.hadoop.fs.s3a.endpoint.region": os.environ.get("AWS_REGION", "us-east-1")}
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        conf["spark.hadoop.fs.s3a.endpoint"] = endpoint
        conf["spark.hadoop.fs.s3a.path.style.access"] = "true"
        conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] = str(endpoint.startswith("https://")).lower()
    return conf
