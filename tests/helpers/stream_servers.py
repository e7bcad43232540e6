"""Streaming servers for the tests: an Apache Kafka 4.x broker (KRaft) and a Mosquitto MQTT broker,
and the moto server standing in for Kinesis.

Each starts on free loopback ports with its state in a fresh folder, and `stop()` stops it and removes
the folder. Nothing skips: a missing broker fails with the install script or Debian package that
provides it.

- Kafka: the jars `.ci/install.d/kafka.sh` copies from Maven Central into `~/.cache/lakehouse/kafka/`;
  the log folder is formatted with `kafka.tools.StorageTool` and the broker runs `kafka.Kafka` as a
  single node that is its own controller.
- Mosquitto: the Debian package, with a generated configuration (persistence on, so a restart keeps
  persistent sessions and their queued QoS 1 messages), restartable on the same port.
- moto: `moto.server.ThreadedMotoServer` in this process.
"""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.helpers.servers import ServerError, _wait_until, find_binary
from tests.helpers.spark import free_port

KAFKA_VERSION = os.environ.get("KAFKA_VERSION", "4.2.0")
KAFKA_HOME = Path.home() / ".cache" / "lakehouse" / "kafka" / KAFKA_VERSION
KAFKA_INSTALL = ".ci/install.d/kafka.sh"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _stop_process(process: subprocess.Popen[bytes] | None, timeout: float = 30) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


# --- Apache Kafka ------------------------------------------------------------------------------


@dataclass
class KafkaServer:
    """One KRaft node, broker and controller, PLAINTEXT on loopback; topics are created by the tests."""

    port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    folder: Path | None = None
    heap: str = "384m"
    _process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _classpath(self) -> str:
        libs = KAFKA_HOME / "libs"
        if not (KAFKA_HOME / ".complete").exists() or not any(libs.glob("kafka_2.13-*.jar")):
            raise ServerError(
                f"the Apache Kafka {KAFKA_VERSION} broker jars are not in {libs}; run `bash {KAFKA_INSTALL}`"
            )
        return str(libs / "*")

    def _java(self) -> str:
        return find_binary("java", "openjdk-17-jre-headless")

    def start(self) -> KafkaServer:
        classpath = self._classpath()
        self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-kafka-"))
        config = self.folder / "server.properties"
        config.write_text(self._properties(), encoding="utf-8")
        (self.folder / "log4j2.yaml").write_text(_LOG4J2.replace("LOGFILE", str(self.folder / "server.log")))
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        java = [self._java(), f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseSerialGC", "-cp", classpath]
        java.append(f"-Dlog4j2.configurationFile={self.folder / 'log4j2.yaml'}")
        done = subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(config)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ServerError(f"kafka storage format failed: {done.stderr.strip()[-2000:] or done.stdout[-2000:]}")
        self._launch(java, config)
        return self

    def _launch(self, java: list[str], config: Path) -> None:
        assert self.folder is not None
        out = (self.folder / "stdout.log").open("ab")
        self._process = subprocess.Popen([*java, "kafka.Kafka", str(config)], stdout=out, stderr=out)
        _wait_until(self._ready, "Kafka", self.folder / "server.log")

    def _properties(self) -> str:
        assert self.folder is not None
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.folder / "data"),
            "num.partitions": "1",
            "auto.create.topics.enable": "false",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "4",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.flush.interval.messages": "9223372036854775807",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "background.threads": "2",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            tail = (self.folder / "stdout.log").read_text(errors="replace")[-2000:] if self.folder else ""
            raise ServerError(f"Kafka exited with {self._process.returncode}:\n{tail}")
        if not _port_open(self.port):
            return False
        from confluent_kafka.admin import AdminClient

        try:
            metadata = AdminClient({"bootstrap.servers": self.bootstrap}).list_topics(timeout=2)
        except Exception:
            return False
        return bool(metadata.brokers)

    def create_topic(self, name: str, partitions: int) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        futures = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        futures[name].result(timeout=30)

    def stop(self) -> None:
        _stop_process(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


_LOG4J2 = """\
Configuration:
  Appenders:
    File:
      name: file
      fileName: "LOGFILE"
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: file
"""


# --- Mosquitto ---------------------------------------------------------------------------------


@dataclass
class MosquittoServer:
    """A private Mosquitto 2 broker: anonymous, QoS 1 queues kept across restarts (persistence on)."""

    port: int = field(default_factory=free_port)
    folder: Path | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> MosquittoServer:
        binary = find_binary("mosquitto", "mosquitto", ("/usr/sbin/mosquitto",))
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-mosquitto-"))
            (self.folder / "data").mkdir()
            if os.geteuid() == 0:  # mosquitto drops root to its own user, which must reach and own the store
                self.folder.chmod(0o755)
                shutil.chown(self.folder / "data", "mosquitto", "mosquitto")
            (self.folder / "mosquitto.conf").write_text(self._config(), encoding="utf-8")
        log = (self.folder / "server.log").open("ab")
        self._process = subprocess.Popen(
            [binary, "-c", str(self.folder / "mosquitto.conf")], stdout=log, stderr=subprocess.STDOUT
        )
        _wait_until(self._ready, "Mosquitto", self.folder / "server.log")
        return self

    def _config(self) -> str:
        assert self.folder is not None
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.folder / 'data'}/",
            "autosave_interval 1",
            "max_queued_messages 0",  # no limit: a persistent session keeps everything published meanwhile
            "max_inflight_messages 100",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        return "\n".join(lines) + "\n"

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"Mosquitto exited with {self._process.returncode}; see {self.folder}/server.log")
        return _port_open(self.port)

    def restart(self, down_s: float = 0.0, during: object = None) -> None:
        """Stop (SIGTERM: the store is saved), optionally wait, start again on the same port and store."""
        _stop_process(self._process)
        if callable(during):
            during()
        time.sleep(down_s)
        self.start()

    def stop(self) -> None:
        _stop_process(self._process)
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)


# --- moto (Kinesis) ----------------------------------------------------------------------------


@dataclass
class MotoServer:
    """moto's HTTP server in a thread: the AWS APIs boto3 speaks, Kinesis among them."""

    port: int = field(default_factory=free_port)
    _server: object | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        server.start()
        self._server = server
        deadline = time.monotonic() + 30
        while not _port_open(self.port):
            if time.monotonic() > deadline:
                raise ServerError(f"moto server did not listen on {self.port} within 30s")
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()  # type: ignore[attr-defined]
