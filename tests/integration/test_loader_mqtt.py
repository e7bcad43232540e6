"""The MQTT family against a real Mosquitto 2 broker (`mosquitto_server`, persistence on).

Each stream keeps a persistent session, so the broker queues what is published between loads; a
message is acknowledged only once its batch is in bronze. Shown here: loads land each message once
and quarantine a malformed payload with its topic; a stream following the broker through a broker
restart (messages published while it is down included) lands every message exactly once; so does
`lakehouse stream`, which follows the topics until SIGTERM, then commits and exits 0; a source
with a device certificate (as AWS IoT Core requires) lands messages over the broker's TLS listener,
which refuses a client without a certificate its CA signed, and the load says so with the fix.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from typer.testing import CliRunner

import lakehouse.cli
import lakehouse.cli.errors
from lakehouse.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from tests.helpers.certificates import PrivateCa
from tests.helpers.loader_io import (
    bronze,
    bronze_exists,
    bronze_rows,
    ledger_rows,
    quarantine_rows,
    source_config,
    write_source,
)
from tests.helpers.stream_command import following, wait_for_bronze_rows
from tests.helpers.stream_servers import MosquittoServer


@pytest.fixture
def local_root(tmp_path: Path) -> LakehouseRoot:
    folder = tmp_path / "root"
    folder.mkdir()
    return LakehouseRoot.parse(str(folder))


class Publisher:
    """A device-like publisher: QoS 1, persistent session, queues while the broker is away."""

    def __init__(self, server: MosquittoServer) -> None:
        self.client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"pub-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.sent: set[int] = set()
        self.acked: set[int] = set()
        self.client.on_publish = lambda client, userdata, mid, reason, properties: self.acked.add(mid)
        self.client.connect("127.0.0.1", server.port, clean_start=False)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> None:
        """Queued by paho while the broker is away, sent (and acknowledged) once it is back."""
        self.sent.add(self.client.publish(topic, payload, qos=1).mid)

    def close(self) -> None:
        deadline = time.monotonic() + 60
        while self.sent - self.acked and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not self.sent - self.acked, "the broker did not acknowledge every message"
        self.client.disconnect()
        self.client.loop_stop()


def mqtt_source(
    folder: Path, server: MosquittoServer, prefix: str, *, options: dict[str, Any] | None = None, **keys: Any
) -> Path:
    stream = {"name": "readings", "topics": [f"{prefix}/+/telemetry"], "idle_timeout_s": 1.0, **keys}
    settings = {"host": "127.0.0.1", "port": server.port, "client_id": f"lh-{prefix}", **(options or {})}
    return write_source(folder, [stream], source="iot", type_="mqtt", options=settings)


def test_loads_land_each_message_once_and_quarantine_a_malformed_payload(
    mosquitto_server: MosquittoServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    prefix = f"p{uuid.uuid4().hex[:6]}"
    path = mqtt_source(tmp_path, mosquitto_server, prefix, batch_messages=50)
    assert load_source(local_root, source_config(path))[0].rows == 0  # the session and its subscription
    publisher = Publisher(mosquitto_server)
    for n in range(120):
        payload = b'{"n": %d, "temperature_c": 2' % n if n == 77 else json.dumps({"n": n, "temperature_c": n / 4})
        publisher.publish(f"{prefix}/dev-{n % 3}/telemetry", payload.encode() if isinstance(payload, str) else payload)
    publisher.close()

    first = load_source(local_root, source_config(path))[0]
    second = load_source(local_root, source_config(path))[0]

    rows = bronze_rows(local_root, "iot", "readings")
    assert sorted(row["payload"]["n"] for row in rows) == [n for n in range(120) if n != 77]
    assert {row["topic"] for row in rows} == {f"{prefix}/dev-{d}/telemetry" for d in range(3)}
    assert {row["qos"] for row in rows} == {1}
    assert (first.rows, first.rows_quarantined, second.rows) == (119, 1, 0)
    [bad] = quarantine_rows(local_root)
    assert bad["reason"].startswith(f"{prefix}/dev-2/telemetry#") and "malformed JSON" in bad["reason"]
    assert bad["raw_payload"] == '{"n": 77, "temperature_c": 2'


def test_a_followed_stream_lands_every_message_once_across_a_broker_restart(
    mosquitto_server: MosquittoServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    prefix = f"p{uuid.uuid4().hex[:6]}"
    path = mqtt_source(tmp_path, mosquitto_server, prefix, batch_messages=40, max_wait_s=0.3)
    load_source(local_root, source_config(path))  # the session and its subscription
    stop = threading.Event()
    follower = threading.Thread(
        target=load_source, args=(local_root, source_config(path)), kwargs={"stop": stop}, daemon=True
    )
    follower.start()
    try:
        publish_through_restarts(mosquitto_server, prefix)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and rows_in(local_root) < TOTAL:
            time.sleep(0.5)
    finally:
        stop.set()
        follower.join(timeout=60)
    assert not follower.is_alive()
    load_source(local_root, source_config(path))  # anything still queued for the session

    numbers = Counter(row["payload"]["n"] for row in bronze_rows(local_root, "iot", "readings"))
    assert not {n: c for n, c in numbers.items() if c > 1}, "duplicated messages"
    assert set(numbers) == set(range(TOTAL)), f"lost: {sorted(set(range(TOTAL)) - set(numbers))[:10]}"


def test_lakehouse_stream_follows_the_topics_and_sigterm_commits_and_exits_0(
    mosquitto_server: MosquittoServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    prefix = f"p{uuid.uuid4().hex[:6]}"
    path = mqtt_source(tmp_path, mosquitto_server, prefix)
    load_source(local_root, source_config(path))  # the session and its subscription
    with following("iot", tmp_path, local_root, batch_size=40, interval=0.3) as ended:
        publisher = Publisher(mosquitto_server)
        for burst in range(3):  # published while the command runs: it keeps following
            for n in range(burst * 100, (burst + 1) * 100):
                publisher.publish(f"{prefix}/dev-{n % 4}/telemetry", json.dumps({"n": n}).encode())
            wait_for_bronze_rows(local_root, "iot", "readings", (burst + 1) * 100)
        publisher.close()
    assert ended.returncode == 0, ended.output
    assert sorted(row["payload"]["n"] for row in bronze_rows(local_root, "iot", "readings")) == list(range(300))
    [entry] = [row for row in ledger_rows(local_root) if row["rows_loaded"]]
    assert entry["status"] == "success" and entry["rows_loaded"] == 300
    assert entry["batches"] >= 8  # micro-batches of at most 40 messages


TOTAL = 900


def rows_in(root: LakehouseRoot) -> int:
    return bronze(root, "iot", "readings").num_rows if bronze_exists(root, "iot", "readings") else 0


def publish_through_restarts(server: MosquittoServer, prefix: str) -> None:
    publisher = Publisher(server)

    def send(numbers: range) -> None:
        for n in numbers:
            publisher.publish(f"{prefix}/dev-{n % 5}/telemetry", json.dumps({"n": n}).encode())
            if n % 50 == 0:
                time.sleep(0.05)

    send(range(0, 300))
    server.restart()  # the follower and the publisher reconnect to the same store
    send(range(300, 600))
    server.restart(during=lambda: send(range(600, 700)))  # published while the broker is down
    send(range(700, TOTAL))
    publisher.close()


def tls_options(server: MosquittoServer, folder: Path, cert: Path | None, key: Path | None) -> dict[str, Any]:
    """The TLS port, and the CA (and device certificate and key, if given) copied beside the source file."""
    (folder / "certs").mkdir(exist_ok=True)
    assert server.ca is not None
    options: dict[str, Any] = {"port": server.tls_port, "ca": "certs/AmazonRootCA1.pem"}
    shutil.copy(server.ca.cert, folder / options["ca"])
    if cert is not None and key is not None:
        options |= {"cert": "certs/device.pem.crt", "key": "certs/private.pem.key"}
        shutil.copy(cert, folder / options["cert"])
        shutil.copy(key, folder / options["key"])
    return options


def test_a_source_with_device_certificates_lands_messages_over_tls(
    mosquitto_server: MosquittoServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    device = mosquitto_server.device
    assert device is not None
    prefix = f"p{uuid.uuid4().hex[:6]}"
    options = tls_options(mosquitto_server, tmp_path, device.cert, device.key)
    path = mqtt_source(tmp_path, mosquitto_server, prefix, options=options)
    assert load_source(local_root, source_config(path))[0].rows == 0  # the session and its subscription, over TLS
    publisher = Publisher(mosquitto_server)
    for n in range(60):
        publisher.publish(f"{prefix}/dev-{n % 2}/telemetry", json.dumps({"n": n}).encode())
    publisher.close()

    result = load_source(local_root, source_config(path))[0]

    assert (result.status, result.rows) == ("success", 60)
    assert sorted(row["payload"]["n"] for row in bronze_rows(local_root, "iot", "readings")) == list(range(60))


@pytest.mark.parametrize("client", ["no certificate", "a certificate from another CA"])
def test_a_client_without_a_valid_certificate_is_refused_with_the_fix(
    client: str, mosquitto_server: MosquittoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rogue = PrivateCa(tmp_path / "other-ca", "another CA").issue("device") if client != "no certificate" else None
    options = tls_options(mosquitto_server, tmp_path, rogue and rogue.cert, rogue and rogue.key)
    mqtt_source(tmp_path, mosquitto_server, f"p{uuid.uuid4().hex[:6]}", options=options)
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(tmp_path))
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)

    result = CliRunner().invoke(lakehouse.cli.app, ["load", "iot"])

    assert result.exit_code == 2, result.output  # an error the user can act on: cause and fix, no traceback
    error = next(line for line in result.output.splitlines() if line.startswith("error:"))
    assert f"MQTT broker 127.0.0.1:{mosquitto_server.tls_port}" in error
    assert "the broker closed the connection before accepting it" in error
    fix = next(line for line in result.output.splitlines() if line.startswith("fix:"))
    expected = "requires a client certificate" if rogue is None else "signed by a CA the broker trusts"
    assert expected in fix and "options.cert" in fix
    [entry] = ledger_rows(LakehouseRoot.parse(str(tmp_path / "root")))
    assert entry["status"] == "failed"
