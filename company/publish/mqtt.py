"""The company's AWS IoT Core messages into a real MQTT broker (Mosquitto locally).

Each message is published at QoS 1 to its own topic (device telemetry, device shadow updates) with
MQTT 5 user properties `timestamp` and `clientId`: what an IoT Core rule adds with `timestamp()` and
`clientid()`, and what the MQTT loader reads back, since MQTT itself does not tell subscribers either.

MQTT keeps nothing for a subscriber it does not know, so the publisher first opens the loader's
persistent sessions (the client ids the written source file gives, subscribed at QoS 1): the broker
then queues every message for the loader until it runs. The last batch published is kept in a
retained message (`lakehouse/publish-log/iot_core`), so publishing again sends only later batches.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path
from typing import Any

from company.publish.streams import StreamPublishReport, batches, system_meta
from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError, SourceError

LOG_TOPIC = "lakehouse/publish-log/iot_core"
CLIENT_PREFIX = "lakehouse-iot_core"  # the loader's sessions: `<prefix>.<stream>`
SESSION_EXPIRY_S = 7 * 24 * 3600
TIMEOUT_S = 30.0


def _client(client_id: str, *, manual_ack: bool = False) -> Any:
    import paho.mqtt.client as mqtt

    version = mqtt.CallbackAPIVersion.VERSION2
    return mqtt.Client(callback_api_version=version, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=manual_ack)


def _connect(client: Any, host: str, port: int, *, persistent: bool) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = SESSION_EXPIRY_S if persistent else 0
    client.connect(host, port, clean_start=not persistent, properties=properties)


class MqttPublisher:
    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"--mqtt {address!r} is not HOST:PORT", "use --mqtt 127.0.0.1:1883")
        self.host, self.port = host, int(port)
        self.where = f"mqtt://{address}"
        self.acked: set[int] = set()
        self.client = _client(f"lakehouse-publisher-{uuid.uuid4().hex[:8]}")
        self.client.on_publish = lambda client, userdata, mid, reason, properties: self.acked.add(mid)
        try:
            _connect(self.client, self.host, self.port, persistent=False)
        except OSError as exc:
            raise SourceError(
                f"cannot reach the MQTT broker at {address}: {exc}", "check --mqtt HOST:PORT and that it runs"
            ) from None
        self.client.loop_start()

    def publish(self, folder: Path) -> list[StreamPublishReport]:
        self._open_loader_sessions()
        done = self._last_published()
        specs = SYSTEMS["iot_core"].streams
        reports = {spec.stream: StreamPublishReport(spec.stream, spec.native_name) for spec in specs}
        sent: set[int] = set()
        last = None
        for batch, spec, records, dirty in batches(folder, "iot_core"):
            reports[spec.stream].skipped_dirty += dirty
            if done is not None and batch <= done:
                continue
            for record in records:
                sent.add(self._publish(record))
            reports[spec.stream].messages += len(records)
            reports[spec.stream].batches += 1
            last = batch
        self._wait_for_acks(sent)
        if last is not None:
            info = self.client.publish(LOG_TOPIC, json.dumps({"batch": last}), qos=1, retain=True)
            self._wait_for_acks({info.mid})
        return list(reports.values())

    def _publish(self, record: dict[str, Any]) -> int:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        properties = Properties(PacketTypes.PUBLISH)
        properties.UserProperty = [("timestamp", str(record["timestamp"])), ("clientId", str(record["clientId"]))]
        payload = json.dumps(record["payload"], ensure_ascii=False, separators=(",", ":"))
        return self.client.publish(record["topic"], payload, qos=1, properties=properties).mid

    def _wait_for_acks(self, mids: set[int]) -> None:
        deadline = time.monotonic() + TIMEOUT_S * 4
        while mids - self.acked and time.monotonic() < deadline:
            time.sleep(0.05)
        if mids - self.acked:
            raise SourceError(f"the MQTT broker at {self.where} did not acknowledge every message", "publish again")

    def _open_loader_sessions(self) -> None:
        """The loader's persistent sessions, subscribed, so the broker keeps what is published for them.

        A session that exists already may hold messages queued for the loader: the broker hands them
        to whoever connects with its id, so this client never acknowledges one (they stay queued and
        go to the loader) and leaves the existing subscription as it is.
        """
        for spec in SYSTEMS["iot_core"].streams:
            client = _client(f"{CLIENT_PREFIX}.{spec.stream}", manual_ack=True)
            ready = threading.Event()

            def on_connect(
                client: Any,
                userdata: Any,
                flags: Any,
                reason: Any,
                properties: Any,
                *,
                done=ready,
                topic=spec.native_name,
            ) -> None:
                if flags.session_present:
                    done.set()
                else:
                    client.subscribe(topic, qos=1)

            client.on_connect = on_connect
            client.on_subscribe = lambda *args, done=ready: done.set()
            _connect(client, self.host, self.port, persistent=True)
            client.loop_start()
            ok = ready.wait(TIMEOUT_S)
            client.disconnect()
            client.loop_stop()
            if not ok:
                raise SourceError(f"the MQTT broker at {self.where} did not confirm a subscription", "publish again")

    def _last_published(self) -> str | None:
        reader = _client(f"lakehouse-publish-log-{uuid.uuid4().hex[:8]}")
        found: list[str] = []
        reader.on_message = lambda client, userdata, message: found.append(message.payload.decode())
        _connect(reader, self.host, self.port, persistent=False)
        reader.loop_start()
        reader.subscribe(LOG_TOPIC, qos=1)
        deadline = time.monotonic() + 1.0  # a retained message comes right after the subscription
        while not found and time.monotonic() < deadline:
            time.sleep(0.05)
        reader.disconnect()
        reader.loop_stop()
        return json.loads(found[0])["batch"] if found else None

    def loader_source(self) -> dict[str, Any]:
        streams = [{"name": spec.stream, "topics": [spec.native_name]} for spec in SYSTEMS["iot_core"].streams]
        return {
            **system_meta("iot_core"),
            "type": "mqtt",
            "description": f"The synthetic company's IoT Core messages, published into {self.where}.",
            "options": {"host": self.host, "port": self.port, "client_id": CLIENT_PREFIX},
            "streams": streams,
        }

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def connect(address: str) -> MqttPublisher:
    return MqttPublisher(address)
