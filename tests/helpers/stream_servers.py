"""Streaming servers for the tests: an Apache Kafka 4.x broker (KRaft) and a Mosquitto MQTT broker,
and the moto server standing in for Kinesis.

Each starts on free loopback ports with its state in a fresh folder, and `stop()` stops it and removes
the folder. Nothing skips: a missing broker fails with the install script or Debian package that
provides it.

- Kafka: the jars `.ci/install.d/kafka.sh` copies from Maven Central into `~/.cache/lakehouse/kafka/`;
  the log folder is formatted with `kafka.tools.StorageTool` (which also creates a SCRAM-SHA-512
  user) and the broker runs `kafka.Kafka` as a single node that is its own controller, with a
  PLAINTEXT listener and a SASL_SSL one (SCRAM-SHA-512 over TLS, the server certificate from a
  private CA), as Amazon MSK offers.
- Mosquitto: the Debian package, with a generated configuration (persistence on, so a restart keeps
  persistent sessions and their queued QoS 1 messages), restartable on the same ports; besides the
  plain listener, a TLS listener that requires a client certificate from the fixture's private CA,
  as AWS IoT Core requires a device certificate.
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

from tests.helpers.certificates import Certificate, PrivateCa
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
    """One KRaft node, broker and controller, on loopback; topics are created by the tests.

    `bootstrap` is PLAINTEXT; `sasl_bootstrap` is SASL_SSL with SCRAM-SHA-512: the broker's certificate
    is signed by a private CA (`ca.cert`, the file a client's `ssl.ca.location` names) and the user
    `scram_user` / `scram_password` exists from the start (created by the storage format).
    """

    port: int = field(default_factory=free_port)
    sasl_port: int = field(default_factory=free_port)
    controller_port: int = field(default_factory=free_port)
    folder: Path | None = None
    heap: str = "384m"
    scram_user: str = "lakehouse"
    scram_password: str = field(default_factory=lambda: f"scram-{uuid.uuid4().hex[:16]}")
    ca: PrivateCa | None = None
    _keystore_password: str = field(default_factory=lambda: uuid.uuid4().hex)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def sasl_bootstrap(self) -> str:
        return f"127.0.0.1:{self.sasl_port}"

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
        self.ca = PrivateCa(self.folder / "tls")
        keystore = self.ca.pkcs12(self.ca.issue("broker", server=True), self._keystore_password)
        config = self.folder / "server.properties"
        config.write_text(self._properties(keystore), encoding="utf-8")
        (self.folder / "log4j2.yaml").write_text(_LOG4J2.replace("LOGFILE", str(self.folder / "server.log")))
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        java = [self._java(), f"-Xmx{self.heap}", "-Xms128m", "-XX:+UseSerialGC", "-cp", classpath]
        java.append(f"-Dlog4j2.configurationFile={self.folder / 'log4j2.yaml'}")
        scram = f"SCRAM-SHA-512=[name={self.scram_user},password={self.scram_password}]"
        done = subprocess.run(
            [*java, "kafka.tools.StorageTool", "format", f"--cluster-id={cluster_id}", "-c", str(config), "-S", scram],
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

    def _properties(self, keystore: Path) -> str:
        assert self.folder is not None
        plain, sasl = f"PLAINTEXT://127.0.0.1:{self.port}", f"SASL_SSL://127.0.0.1:{self.sasl_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"{plain},{sasl},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"{plain},{sasl}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "listener.name.sasl_ssl.ssl.keystore.type": "PKCS12",
            "listener.name.sasl_ssl.ssl.keystore.location": str(keystore),
            "listener.name.sasl_ssl.ssl.keystore.password": self._keystore_password,
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
        if not _port_open(self.port) or not _port_open(self.sasl_port):
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
        _stop_process(self._process, timeout=5)  # its folder is deleted next: no need to wait out a controlled shutdown
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
    """A private Mosquitto 2 broker: anonymous, QoS 1 queues kept across restarts (persistence on).

    `port` is plain MQTT; `tls_port` is MQTT over TLS with the server certificate of a private CA
    (`ca`) and `require_certificate true`: a client must present a certificate that CA signed, such
    as `device` (the device certificate and key an IoT Core thing gets).
    """

    port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    folder: Path | None = None
    ca: PrivateCa | None = None
    device: Certificate | None = None
    _process: subprocess.Popen[bytes] | None = None

    @property
    def host_port(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> MosquittoServer:
        binary = find_binary("mosquitto", "mosquitto", ("/usr/sbin/mosquitto",))
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="lakehouse-mosquitto-"))
            (self.folder / "data").mkdir()
            self.ca = PrivateCa(self.folder / "tls")
            server = self.ca.issue("server", server=True)
            self.device = self.ca.issue("device")
            if os.geteuid() == 0:  # mosquitto drops root to its own user, which must reach and own the store
                self.folder.chmod(0o755)
                shutil.chown(self.folder / "data", "mosquitto", "mosquitto")
                for path in (self.folder / "tls", server.key):
                    shutil.chown(path, "mosquitto", "mosquitto")
            (self.folder / "mosquitto.conf").write_text(self._config(server), encoding="utf-8")
        log = (self.folder / "server.log").open("ab")
        self._process = subprocess.Popen(
            [binary, "-c", str(self.folder / "mosquitto.conf")], stdout=log, stderr=subprocess.STDOUT
        )
        _wait_until(self._ready, "Mosquitto", self.folder / "server.log")
        return self

    def _config(self, server: Certificate) -> str:
        assert self.folder is not None and self.ca is not None
        lines = [
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
            f"listener {self.port} 127.0.0.1",
            f"listener {self.tls_port} 127.0.0.1",
            f"cafile {self.ca.cert}",
            f"certfile {server.cert}",
            f"keyfile {server.key}",
            "require_certificate true",
        ]
        return "\n".join(lines) + "\n"

    def _ready(self) -> bool:
        if self._process is not None and self._process.poll() is not None:
            raise ServerError(f"Mosquitto exited with {self._process.returncode}; see {self.folder}/server.log")
        return _port_open(self.port) and _port_open(self.tls_port)

    def restart(self, down_s: float = 0.0, during: object = None) -> None:
        """Stop (SIGTERM: the store is saved), optionally wait, start again on the same ports and store."""
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
