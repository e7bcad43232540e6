"""MQTT topics (`type: mqtt`; AWS IoT Core, Mosquitto, ...): QoS 1 micro-batches, acknowledged once in bronze.

MQTT has no replay, so the broker's own queue is the stream's position: each stream keeps one
persistent session (a fixed client id, `clean_start` false, a session expiry), subscribes at QoS 1
and acknowledges a message (PUBACK, paho's manual ack) only after the bronze commit holding it. A
message received but not yet committed is redelivered by the broker after a crash or a reconnect.

A redelivery of a message that *was* committed (the load died between its commit and its acks) is
recognised and dropped: the cursor of each commit keeps fingerprints (packet id, topic, payload
hash) of the last `dedupe_window` messages committed, and a redelivered message (MQTT's DUP flag)
with one of those fingerprints is acknowledged without being loaded again. Redeliveries within
the batch being gathered are dropped the same way. So each message lands in bronze exactly once as
long as the broker's in-flight window (unacknowledged messages per client; 100 on AWS IoT Core, 20 by
default on Mosquitto) is smaller than `dedupe_window`.

Messages become rows shaped like the company's exported files (topic, qos, timestamp, clientId,
payload): `timestamp` is when the loader received the message (milliseconds), or an MQTT 5 user
property `timestamp` when the publisher (an IoT Core rule) sets one, `clientId` likewise from a user
property (MQTT does not tell subscribers who published). A payload that is not JSON is quarantined.

A load (`lakehouse load`) ends once no message has arrived for `idle_timeout_s`; `lakehouse stream`
follows until stopped. Source options: `host`, `port`, `client_id`, `username`, `password`, `ca`,
`cert`, `key` (TLS with device certificates), `keepalive_s`, `session_expiry_s`. Stream keys:
`topics` (filters; default the stream's name), `batch_messages`, `max_wait_s`, `idle_timeout_s`,
`dedupe_window`. See README.md.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import SourceError
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.messages import parse_envelopes, payload_json, raw_text
from loaders.core.protocol import Batch
from loaders.core.quarantine import BatchWithRejects, Rejected
from loaders.core.retry import TransientSourceError

log = structlog.get_logger("loaders.mqtt")

CONNECT_TIMEOUT_S = 15.0
CLOSED_BEFORE_CONNACK = "the broker closed the connection before accepting it"


class MqttOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str
    port: int | None = None  # 8883 with TLS, else 1883
    client_id: str | None = None  # prefix of each stream's session id; default `lakehouse-<source>`
    username: str | None = None
    password: str | None = None
    ca: str | None = None  # CA certificate file (AWS IoT Core: AmazonRootCA1.pem)
    cert: str | None = None  # device certificate file
    key: str | None = None  # device private key file
    keepalive_s: int = Field(default=30, ge=5)
    session_expiry_s: int = Field(default=7 * 24 * 3600, ge=60)  # how long the broker keeps our queue


class MqttStreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: list[str] | None = None
    batch_messages: int = Field(default=5_000, ge=1)
    max_wait_s: float = Field(default=1.0, gt=0)
    idle_timeout_s: float = Field(default=3.0, gt=0)
    dedupe_window: int = Field(default=2_000, ge=100)


@dataclass
class MqttCursor:
    """Fingerprints of the last messages committed: a redelivery of one of them is not loaded again."""

    recent: list[str] = field(default_factory=list)

    def dump(self) -> str:
        return json.dumps({"recent": self.recent}, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> MqttCursor:
        return cls(list(json.loads(raw)["recent"])) if raw else cls()


def fingerprint(mid: int, topic: str, payload: bytes) -> str:
    digest = hashlib.blake2b(payload, digest_size=8, key=f"{mid}|{topic}".encode()[:64]).hexdigest()
    return f"{mid}:{digest}"


class MqttSource:
    def __init__(self, config: SourceConfig) -> None:
        self.name = config.source
        self.options = config.family_options(MqttOptions)
        self.tls = tuple(
            str(config.relative_path(p)) if p else None for p in (self.options.ca, self.options.cert, self.options.key)
        )
        prefix = self.options.client_id or f"lakehouse-{config.source}"
        self._streams = [MqttStream(self, stream, f"{prefix}.{stream.name}") for stream in config.streams]

    @property
    def port(self) -> int:
        return self.options.port or (8883 if self.tls[0] else 1883)

    def streams(self) -> list[MqttStream]:
        return self._streams

    def check(self) -> None:
        """Connect once (a throwaway clean session) to name a wrong host, port, certificate or password."""
        try:
            client = self.client(f"lakehouse-check-{self.name}-{time.time_ns()}", persistent=False)
        except (OSError, ValueError) as exc:  # a TLS file missing or unreadable, a key that is not the cert's
            raise SourceError(
                f"source {self.name!r}: cannot use the TLS files (ca, cert, key) "
                f"{', '.join(p for p in self.tls if p)}: {exc}",
                "point options.ca, cert and key at the PEM files of the CA, the device certificate and its "
                "private key (relative paths are relative to the source file)",
            ) from None
        connected = threading.Event()
        failure: list[str] = []

        def on_connect(client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
            if reason.is_failure:
                failure.append(str(reason))
            connected.set()

        def on_disconnect(client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
            if not connected.is_set():  # closed before CONNACK: over TLS, a refused (or missing) client certificate
                failure.append(CLOSED_BEFORE_CONNACK)
                connected.set()

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        try:
            client.connect(self.options.host, self.port, keepalive=self.options.keepalive_s)
            client.loop_start()
            ok = connected.wait(CONNECT_TIMEOUT_S)
        except (OSError, ValueError) as exc:
            failure, ok = [str(exc)], True
        finally:
            client.loop_stop()
            client.disconnect()
        if not ok or failure:
            reason = failure[0] if failure else f"no answer within {CONNECT_TIMEOUT_S:.0f}s"
            raise SourceError(
                f"source {self.name!r}: cannot connect to the MQTT broker {self.options.host}:{self.port}: {reason}",
                self._connect_fix(reason),
            )

    def _connect_fix(self, reason: str) -> str:
        ca, cert, _ = self.tls
        if reason == CLOSED_BEFORE_CONNACK and ca and not cert:
            return (
                "the broker requires a client certificate: set options.cert and options.key to the device "
                "certificate and private key (AWS IoT Core: the thing's certificate, activated, with a policy)"
            )
        if reason == CLOSED_BEFORE_CONNACK and cert:
            return (
                "check that options.cert and options.key are a device certificate and its key signed by a CA the "
                "broker trusts (AWS IoT Core: registered, activated, with a policy allowing iot:Connect)"
            )
        return "check options.host and port, the TLS files (ca, cert, key) or the username and password"

    def client(self, client_id: str, *, persistent: bool) -> Any:
        import paho.mqtt.client as mqtt

        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=persistent,
        )
        if self.options.username:
            client.username_pw_set(self.options.username, self.options.password)
        ca, cert, key = self.tls
        if ca or cert:
            client.tls_set(ca_certs=ca, certfile=cert, keyfile=key)
        client.reconnect_delay_set(min_delay=1, max_delay=5)
        return client


class MqttStream:
    """One set of topic filters, one persistent session; batches acknowledged after their commit."""

    follows = True

    def __init__(self, source: MqttSource, stream: StreamConfig, client_id: str) -> None:
        self.config = stream
        self.options = stream.family_options(MqttStreamOptions)
        self.topics = self.options.topics or [stream.name]
        self.source = source
        self.client_id = client_id
        self._client: Any = None
        self._unacked: dict[str, list[int]] = {}  # batch cursor -> packet ids to acknowledge once committed

    def read(self, cursor: str | None, stop: threading.Event | None = None) -> Iterator[Batch]:
        session = _Session(self, MqttCursor.load(cursor))
        self._client = session.client
        try:
            yield from session.batches(stop)
        finally:
            self._client = None
            session.close()

    def committed(self, batch: Batch) -> None:
        """The batch is in bronze: acknowledge its messages, so the broker forgets them."""
        mids = self._unacked.pop(batch.cursor or "", [])
        client = self._client
        if client is None:
            return  # not acknowledged: redelivered with DUP next time, and recognised by the cursor
        for mid in mids:
            client.ack(mid, 1)


class _Session:
    """One connection of one stream: messages from paho's thread, gathered into micro-batches."""

    def __init__(self, stream: MqttStream, cursor: MqttCursor) -> None:
        self.stream = stream
        self.options = stream.options
        self.inbox: queue.Queue[Any] = queue.Queue()
        self.recent = deque(cursor.recent, maxlen=self.options.dedupe_window)
        self.committed = set(self.recent)
        self.ready = threading.Event()
        self.failure: list[str] = []
        self.client = stream.source.client(stream.client_id, persistent=True)
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda client, userdata, message: self.inbox.put(message)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self.failure.append(str(reason))
            self.ready.set()
            return
        client.subscribe([(topic, 1) for topic in self.stream.topics])
        self.ready.set()

    def _connect(self) -> None:
        from paho.mqtt.packettypes import PacketTypes
        from paho.mqtt.properties import Properties

        source = self.stream.source
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = source.options.session_expiry_s
        try:
            self.client.connect(
                source.options.host,
                source.port,
                keepalive=source.options.keepalive_s,
                clean_start=False,
                properties=properties,
            )
        except (OSError, ValueError) as exc:
            raise TransientSourceError(f"MQTT broker {source.options.host}:{source.port}: {exc}") from None
        self.client.loop_start()
        if not self.ready.wait(CONNECT_TIMEOUT_S) or self.failure:
            reason = self.failure[0] if self.failure else "no CONNACK"
            raise TransientSourceError(f"MQTT broker {source.options.host}:{source.port}: {reason}")

    def batches(self, stop: threading.Event | None) -> Iterator[Batch]:
        self._connect()
        last_message = time.monotonic()
        while True:
            pending = self._gather(stop)
            if pending is None:
                if stop is None and time.monotonic() - last_message >= self.options.idle_timeout_s:
                    return
                if stop is not None and stop.is_set():
                    return
                continue
            yield pending
            last_message = time.monotonic()  # idle from here: the commit (and our acks) took their time
            if stop is not None and stop.is_set():
                return

    def _gather(self, stop: threading.Event | None) -> BatchWithRejects | None:
        """Messages until the batch is full, `max_wait_s` after its first, or a short lull; None if none came."""
        lines: list[bytes] = []
        origins: list[str] = []
        starts: list[int] = []
        rejects: list[Rejected] = []
        mids: list[int] = []
        fresh: set[str] = set()
        deadline = None
        lull = min(0.2, self.options.max_wait_s)
        while len(mids) < self.options.batch_messages:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                break
            if stop is not None and stop.is_set() and not mids:
                break
            wait = lull if mids else 0.2
            try:
                message = self.inbox.get(timeout=wait if deadline is None else min(wait, deadline - now))
            except queue.Empty:
                if mids:
                    break  # a lull: commit what we have (its acks open the broker's in-flight window)
                return None
            print_ = fingerprint(message.mid, message.topic, message.payload)
            if message.dup and (print_ in self.committed or print_ in fresh):
                if print_ in self.committed:
                    self.client.ack(message.mid, 1)  # in bronze already: just let the broker forget it
                continue
            if deadline is None:
                deadline = now + self.options.max_wait_s
            fresh.add(print_)
            mids.append(message.mid)
            self.recent.append(print_)
            self._add(message, print_, lines, origins, starts, rejects)
        if not mids:
            return None
        self.committed = set(self.recent)  # what the cursor says once this batch commits
        data, bad = parse_envelopes(lines, origins, starts)
        cursor = MqttCursor(list(self.recent)).dump()
        self.stream._unacked[cursor] = mids
        return BatchWithRejects(data, cursor, tuple(rejects + bad))

    def _add(
        self,
        message: Any,
        print_: str,
        lines: list[bytes],
        origins: list[str],
        starts: list[int],
        rejects: list[Rejected],
    ) -> None:
        origin = f"{message.topic}#{print_}"
        payload = payload_json(message.payload) if message.payload else b"null"
        if payload is None:
            reason = f"{message.topic}: malformed JSON payload (a line break outside a JSON value)"
            rejects.append(Rejected(reason, raw_text(message.payload), origin))
            return
        stamp, client_id = _user_properties(message)
        head = b"".join(
            (
                b'{"topic":',
                json.dumps(message.topic).encode(),
                b',"qos":%d,"timestamp":%d,"clientId":' % (message.qos, stamp or time.time_ns() // 1_000_000),
                json.dumps(client_id).encode(),
                b',"payload":',
            )
        )
        lines.append(head + payload + b"}")
        starts.append(len(head))
        origins.append(origin)

    def close(self) -> None:
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()


def _user_properties(message: Any) -> tuple[int | None, str | None]:
    """`timestamp` and `clientId` user properties, as an IoT Core rule (or the company publisher) sets them."""
    properties = getattr(message, "properties", None)
    pairs = dict(getattr(properties, "UserProperty", None) or [])
    stamp = pairs.get("timestamp")
    return (int(stamp) if stamp and stamp.isdigit() else None), pairs.get("clientId")


def build(config: SourceConfig) -> MqttSource:
    return MqttSource(config)
