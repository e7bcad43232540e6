"""Kafka topics (`type: kafka`): consumer micro-batches, the partition offsets committed with the data.

Each stream is one topic. A read assigns the topic's partitions explicitly (no group rebalancing:
the stream is the only reader of its own position) at the offsets in the cursor, which is the next
offset to read per partition, and stored in the bronze commit with the batch that ends there. So a
crash at any point neither duplicates nor loses a message: the next load starts exactly after the
last committed batch. The consumer group's committed offsets are only a courtesy for monitoring
tools; they are written after each bronze commit and never read.

A load (`lakehouse load`) notes the high watermarks when it starts and ends when every partition
reaches its own; `lakehouse stream` follows the topic until it is stopped.

Messages become rows shaped like the company's exported files (topic, partition, offset, timestamp,
timestamp_type, key, headers, value): a JSON value is parsed as it is, an Avro value is decoded with
a schema file or through a Schema Registry. A value that does not decode is quarantined with its
topic, partition and offset in the reason; the stream goes on.

Source options: `bootstrap_servers`, `group_id`, `security_protocol`, `sasl_mechanism`,
`sasl_username`, `sasl_password`, `ssl_ca_location`, `ssl_certificate_location`, `ssl_key_location`,
`ssl_key_password`, `schema_registry_url`, `schema_registry_auth` (`user:password`), and
`consumer` (any other librdkafka property, passed through). Stream keys: `topic` (default: the
stream's name), `format` (json | avro), `avro_schema_file`, `batch_messages`, `max_wait_s`,
`idle_timeout_s`. See README.md.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import structlog
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.messages import json_text, parse_json_objects, raw_text
from loaders.core.protocol import Batch
from loaders.core.quarantine import BatchWithRejects, Rejected
from loaders.core.retry import TransientSourceError

log = structlog.get_logger("loaders.kafka")

TIMESTAMP_TYPES = {0: "NoTimestampType", 1: "CreateTime", 2: "LogAppendTime"}
METADATA_TIMEOUT_S = 15.0


class KafkaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bootstrap_servers: str
    group_id: str | None = None  # for the courtesy offset commits; default `lakehouse.<source>`
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER", "GSSAPI"] | None = None
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_ca_location: str | None = None
    ssl_certificate_location: str | None = None
    ssl_key_location: str | None = None
    ssl_key_password: str | None = None
    schema_registry_url: str | None = None
    schema_registry_auth: str | None = None  # user:password
    consumer: dict[str, str | int | float | bool] = Field(default_factory=dict)


class KafkaStreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topic: str | None = None
    format: Literal["json", "avro"] = "json"
    avro_schema_file: str | None = None
    # 10,000 messages of 500 B are about 5 MB of JSON. A batch is held several times over while it is
    # committed (the values, Arrow, delta-rs's Parquet buffer), so peak memory grows with it; 50,000
    # were no faster in bench/bench_kafka.py and cost about 140 MB more (see README.md).
    batch_messages: int = Field(default=10_000, ge=1)
    max_wait_s: float = Field(default=1.0, gt=0)  # following: a batch is cut after this long
    idle_timeout_s: float = Field(default=30.0, gt=0)  # a load that gets nothing this long is retried


@dataclass
class KafkaCursor:
    """The next offset to read per partition (`{"offsets": {"0": 42, ...}}`)."""

    offsets: dict[int, int] = field(default_factory=dict)

    def dump(self) -> str:
        return json.dumps({"offsets": {str(p): o for p, o in sorted(self.offsets.items())}}, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> KafkaCursor:
        if not raw:
            return cls()
        return cls({int(p): int(o) for p, o in json.loads(raw)["offsets"].items()})


def consumer_config(options: KafkaOptions, group_id: str) -> dict[str, Any]:
    """librdkafka settings: the typed options, then `consumer:` passed through as given."""
    config: dict[str, Any] = {
        "bootstrap.servers": options.bootstrap_servers,
        "group.id": options.group_id or group_id,
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "enable.partition.eof": True,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
        "security.protocol": options.security_protocol,
        # Prefetch bounded (librdkafka's default queue is 64 MB): memory stays flat.
        "fetch.max.bytes": 16 << 20,
        "queued.max.messages.kbytes": 8 << 10,
        # Once that queue is full (it is, while a batch is being written), librdkafka waits this long
        # before fetching again: its default of 1 s left the loader idle for most of each batch.
        "fetch.queue.backoff.ms": 20,
    }
    typed = {
        "sasl.mechanism": options.sasl_mechanism,
        "sasl.username": options.sasl_username,
        "sasl.password": options.sasl_password,
        "ssl.ca.location": options.ssl_ca_location,
        "ssl.certificate.location": options.ssl_certificate_location,
        "ssl.key.location": options.ssl_key_location,
        "ssl.key.password": options.ssl_key_password,
    }
    config |= {key: value for key, value in typed.items() if value is not None}
    return config | options.consumer


class KafkaSource:
    def __init__(self, config: SourceConfig) -> None:
        self.name = config.source
        self.options = config.family_options(KafkaOptions)
        self.settings = consumer_config(self.options, f"lakehouse.{config.source}")
        registry = _registry(self.options)
        self._streams = [KafkaStream(self.settings, stream, config, registry) for stream in config.streams]

    def streams(self) -> list[KafkaStream]:
        return self._streams

    def check(self) -> None:
        """Fetch the cluster's metadata once: a wrong address, login or CA is named here, with its fix."""
        metadata = self._metadata()
        missing = [s.topic for s in self._streams if s.topic not in metadata.topics]
        if missing:
            raise SourceError(
                f"source {self.name!r}: topic(s) {', '.join(missing)} do not exist on {self.options.bootstrap_servers}",
                "create the topics, or correct the streams' `topic` keys",
            )

    def _metadata(self) -> Any:
        from confluent_kafka import KafkaError
        from confluent_kafka.admin import AdminClient

        refusals = (KafkaError._AUTHENTICATION, KafkaError._SSL)
        errors: list[Any] = []  # librdkafka's connection errors, which list_topics() only reports as a timeout
        admin_settings = {k: v for k, v in self.settings.items() if not k.startswith(_CONSUMER_ONLY)}
        admin = AdminClient(admin_settings | {"error_cb": errors.append})
        deadline = time.monotonic() + METADATA_TIMEOUT_S
        while True:
            try:
                return admin.list_topics(timeout=1.0)
            except Exception as exc:
                admin.poll(0)  # serves error_cb
                refused = next((e for e in errors if e.code() in refusals), None)
                if refused is not None:
                    raise self._refused(refused) from None
                if time.monotonic() >= deadline:
                    raise SourceError(
                        f"source {self.name!r}: cannot reach Kafka at {self.options.bootstrap_servers}: {exc}",
                        "check options.bootstrap_servers, the security settings and that the brokers run",
                    ) from None

    def _refused(self, error: Any) -> SourceError:
        """The brokers answered but refused the login or the TLS session: no retry will help."""
        from confluent_kafka import KafkaError

        where = f"source {self.name!r}: Kafka at {self.options.bootstrap_servers}"
        if error.code() == KafkaError._AUTHENTICATION:
            return SourceError(
                f"{where} refused the login of user {self.options.sasl_username!r} "
                f"({self.options.security_protocol}, {self.options.sasl_mechanism}): {error.str()}",
                "check options.sasl_username and sasl_password (a secret reference such as ${KAFKA_PASSWORD}) "
                "and sasl_mechanism: SCRAM credentials exist per mechanism on the brokers",
            )
        return SourceError(
            f"{where}: the TLS handshake failed: {error.str()}",
            "point options.ssl_ca_location at the CA certificate that signed the brokers' certificates "
            "(and ssl_certificate_location / ssl_key_location when the brokers require client certificates)",
        )


_CONSUMER_ONLY = (
    "group.",
    "enable.auto",
    "enable.partition.eof",
    "isolation.level",
    "auto.offset",
    "fetch.",
    "queued.",
)


def _registry(options: KafkaOptions) -> Any:
    if not options.schema_registry_url:
        return None
    from confluent_kafka.schema_registry import SchemaRegistryClient

    settings = {"url": options.schema_registry_url}
    if options.schema_registry_auth:
        settings["basic.auth.user.info"] = options.schema_registry_auth
    return SchemaRegistryClient(settings)


class KafkaStream:
    """One topic, read from the cursor's offsets to the high watermarks seen at the start."""

    follows = True  # `read(cursor, stop=event)` reads on until the event is set

    def __init__(self, settings: dict[str, Any], stream: StreamConfig, source: SourceConfig, registry: Any) -> None:
        self.config = stream
        self.options = stream.family_options(KafkaStreamOptions)
        self.topic = self.options.topic or stream.name
        self.settings = settings
        self.decode = _decoder(self.options, self.topic, source, stream, registry)
        self._consumer: Any = None
        self._lock = threading.Lock()

    def read(self, cursor: str | None, stop: threading.Event | None = None) -> Iterator[Batch]:
        from confluent_kafka import Consumer

        consumer = Consumer(self.settings)
        with self._lock:
            self._consumer = consumer
        try:
            yield from _TopicRead(consumer, self, KafkaCursor.load(cursor), stop).batches()
        finally:
            with self._lock:
                self._consumer = None
            consumer.close()

    def committed(self, batch: Batch) -> None:
        """After the bronze commit: the group's offsets, as a courtesy for lag monitors (never read back)."""
        from confluent_kafka import TopicPartition

        with self._lock:
            consumer = self._consumer
        if consumer is None or batch.cursor is None:
            return
        offsets = [TopicPartition(self.topic, p, o) for p, o in KafkaCursor.load(batch.cursor).offsets.items()]
        try:
            consumer.commit(offsets=offsets, asynchronous=True)
        except Exception as exc:  # a courtesy: never fails the load
            log.debug("kafka.courtesy_commit_failed", topic=self.topic, error=str(exc))


class _TopicRead:
    """One read of one topic: assignment, the end to stop at, micro-batches with their cursor."""

    def __init__(self, consumer: Any, stream: KafkaStream, cursor: KafkaCursor, stop: threading.Event | None) -> None:
        self.consumer = consumer
        self.stream = stream
        self.topic = stream.topic
        self.options = stream.options
        self.stop = stop
        self.positions = dict(cursor.offsets)
        self.ends: dict[int, int] = {}
        self.pending: set[int] = set()

    def batches(self) -> Iterator[Batch]:
        self._assign()
        gathered = _Gathered()
        started = last_message = time.monotonic()
        while self._reading():
            want = min(10_000, self.options.batch_messages - gathered.count)
            if self.stop is None:  # consume() waits for `want` messages: ask for no more than are left
                want = min(want, sum(self.ends[p] - self.positions[p] for p in self.pending) + len(self.pending))
            # Not kept in a variable: the messages (and librdkafka's buffers behind them) are freed as soon as
            # their fields are in the gathered lists, not held while the batch is parsed and written.
            timeout = min(self.options.max_wait_s, 0.2)
            if self._take(self.consumer.consume(num_messages=max(want, 1), timeout=timeout), gathered):
                last_message = time.monotonic()
            now = time.monotonic()
            full = gathered.count >= self.options.batch_messages
            waited = self.stop is not None and now - started >= self.options.max_wait_s
            if gathered.count and (full or waited or not self._reading()):
                # Let go of the gathered lists before the batch is written: while the pipeline commits it,
                # only its Arrow table is held.
                batch, gathered = self._batch(gathered), _Gathered()
                yield batch
                del batch  # nor is the committed batch held here while the next one is gathered
                started = time.monotonic()
            elif self.stop is not None and waited:
                started = now
            if self.stop is None and self.pending and now - last_message > self.options.idle_timeout_s:
                raise TransientSourceError(
                    f"Kafka topic {self.topic}: nothing received for {self.options.idle_timeout_s:.0f}s "
                    f"from partition(s) {sorted(self.pending)} before their end offsets",
                    "check that the brokers run and the partitions have a leader",
                )
        if gathered.count:
            batch, gathered = self._batch(gathered), _Gathered()
            yield batch

    def _reading(self) -> bool:
        if self.stop is not None:
            return not self.stop.is_set()
        return bool(self.pending)

    def _assign(self) -> None:
        from confluent_kafka import KafkaException, TopicPartition

        try:
            metadata = self.consumer.list_topics(self.topic, timeout=METADATA_TIMEOUT_S)
            topic = metadata.topics.get(self.topic)
            if topic is None or topic.error is not None or not topic.partitions:
                raise SourceError(
                    f"Kafka topic {self.topic} does not exist or has no partitions",
                    "create the topic, or correct the stream's `topic` key",
                )
            assignment = []
            for partition in sorted(topic.partitions):
                low, high = self.consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=METADATA_TIMEOUT_S
                )
                start = self.positions.get(partition, low)
                if start < low:
                    log.warning("kafka.offsets_expired", topic=self.topic, partition=partition, lost=low - start)
                    start = low
                self.positions[partition] = start
                self.ends[partition] = high
                if start < high:
                    self.pending.add(partition)
                assignment.append(TopicPartition(self.topic, partition, start))
        except KafkaException as exc:
            raise TransientSourceError(f"Kafka topic {self.topic}: cannot read its partitions: {exc}") from None
        self.consumer.assign(assignment)

    def _take(self, messages: list[Any], gathered: _Gathered) -> bool:
        """Add a consume() call's messages to the batch being gathered; True if any was a record.

        The hot loop of the family: a handful of C calls and list appends per message, nothing else.
        """
        took = False
        positions, ends, bounded, decode = self.positions, self.ends, self.stop is None, self.stream.decode
        partitions, offsets, stamps = gathered.partitions, gathered.offsets, gathered.stamps
        keys, headers, values = gathered.keys, gathered.headers, gathered.values
        for message in messages:
            if message.error() is not None:
                self._error(message)
                continue
            partition, offset = message.partition(), message.offset()
            if bounded and offset >= ends[partition]:
                self._finish(partition, None)
                continue
            took = True
            positions[partition] = offset + 1
            value = message.value()
            if decode is not None:
                value = decode(value)
                if isinstance(value, str):
                    self._reject(gathered, partition, offset, value, message.value())
                    continue
            partitions.append(partition)
            offsets.append(offset)
            stamps.append(message.timestamp())
            keys.append(message.key())
            headers.append(message.headers())
            values.append(value or None)
            if bounded and offset + 1 >= ends[partition]:
                self._finish(partition, None)
        return took

    def _error(self, message: Any) -> None:
        from confluent_kafka import KafkaError

        error = message.error()
        if error.code() == KafkaError._PARTITION_EOF:
            if self.stop is None:
                self._finish(message.partition(), message.offset())
            return
        self._fail(error)

    def _reject(self, gathered: _Gathered, partition: int, offset: int, reason: str, raw: bytes | None) -> None:
        origin = f"{self.topic}/{partition}/{offset}"
        gathered.rejects.append(Rejected(f"{origin}: {reason}", raw_text(raw), origin))

    def _finish(self, partition: int, eof_offset: int | None) -> None:
        """The partition is at its end for this load: stop fetching it; skip trailing control records."""
        from confluent_kafka import TopicPartition

        if partition not in self.pending:
            return
        if eof_offset is not None and self.positions[partition] < eof_offset <= self.ends[partition]:
            self.positions[partition] = eof_offset
        self.pending.discard(partition)
        self.consumer.pause([TopicPartition(self.topic, partition)])

    def _fail(self, error: Any) -> None:
        from confluent_kafka import KafkaError

        transient = {KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._TIMED_OUT}
        if error.fatal() or not error.retriable():
            if error.code() in transient:
                raise TransientSourceError(f"Kafka topic {self.topic}: {error.str()}")
            raise SourceError(
                f"Kafka topic {self.topic}: {error.str()}",
                "check the topic, the consumer's permissions (ACLs) and the security settings",
            )
        log.warning("kafka.consume_error", topic=self.topic, error=error.str())

    def _batch(self, gathered: _Gathered) -> BatchWithRejects:
        data, bad = gathered.table(self.topic)
        cursor = KafkaCursor(dict(self.positions)).dump()
        return BatchWithRejects(data, cursor, tuple(gathered.rejects + bad))


class _Gathered:
    """The messages of the batch being gathered, column by column (one Python call per field, no dicts)."""

    def __init__(self) -> None:
        self.partitions: list[int] = []
        self.offsets: list[int] = []
        self.stamps: list[tuple[int, int]] = []
        self.keys: list[bytes | None] = []
        self.headers: list[Any] = []
        self.values: list[bytes | None] = []  # a JSON object each (Avro: decoded to one); None for a null
        self.rejects: list[Rejected] = []

    @property
    def count(self) -> int:
        return len(self.offsets) + len(self.rejects)

    def table(self, topic: str) -> tuple[pa.Table, list[Rejected]]:
        """The envelope columns of the files' shape; values that do not parse are rejected by offset."""
        values, failures = parse_json_objects(self.values)
        keep = None
        if failures:
            keep = [i for i in range(len(self.values)) if i not in failures]
        rejects = [
            Rejected(f"{origin}: {reason}", raw_text(self.values[i]), origin)
            for i, reason in sorted(failures.items())
            for origin in (f"{topic}/{self.partitions[i]}/{self.offsets[i]}",)
        ]
        rows = keep if keep is not None else range(len(self.values))

        def pick(items: list[Any]) -> list[Any]:
            return items if keep is None else [items[i] for i in keep]

        stamps = pick(self.stamps)
        columns = {
            "topic": pa.array([topic] * len(rows), pa.string()),
            "partition": pa.array(pick(self.partitions), pa.int64()),
            "offset": pa.array(pick(self.offsets), pa.int64()),
            "timestamp": pa.array([ms if ms >= 0 else None for _, ms in stamps], pa.int64()),
            "timestamp_type": pa.array([TIMESTAMP_TYPES.get(kind) for kind, _ in stamps], pa.string()),
            "key": _keys(pick(self.keys)),
            "headers": headers_column(pick(self.headers)),
            "value": values,
        }
        return pa.table(columns), rejects


def _keys(keys: list[bytes | None]) -> pa.Array:
    """Keys as text; a key that is not UTF-8 keeps its bytes as U+FFFD replacements, like headers."""
    raw = pa.array(keys, pa.binary())
    try:
        return raw.cast(pa.string())
    except pa.ArrowInvalid:
        return pa.array([k.decode("utf-8", errors="replace") if k is not None else None for k in keys], pa.string())


def headers_column(headers: list[Any]) -> pa.Array:
    """Headers as a struct of strings, its fields in the order the messages carry them (as in the files'
    JSON), not sorted by name as Arrow's inference from dicts would: bronze gets the files' schema."""
    if not any(headers):
        return pa.nulls(len(headers))
    decoded = [
        {k: (v.decode("utf-8", errors="replace") if v is not None else None) for k, v in h} if h else None
        for h in headers
    ]
    names = dict.fromkeys(name for h in decoded if h for name in h)
    return pa.array(decoded, pa.struct([(name, pa.string()) for name in names]))


# A value as JSON text, None for a null, or why it cannot be decoded; JSON values need no decoder.
Decoder = Callable[[bytes | None], bytes | str | None]


def _decoder(
    options: KafkaStreamOptions, topic: str, source: SourceConfig, stream: StreamConfig, registry: Any
) -> Decoder | None:
    if options.format == "json":
        return None  # the values are parsed as they are, all at once
    if options.avro_schema_file:
        return _avro_file_decoder(source.relative_path(options.avro_schema_file), stream)
    if registry is not None:
        return _avro_registry_decoder(registry, topic)
    raise ConfigError(
        f"{stream.source_file}: key `streams[{stream.name}].format`: avro needs a schema",
        "set `avro_schema_file` on the stream, or `schema_registry_url` in the source's options",
    )


def _avro_file_decoder(path: Path, stream: StreamConfig) -> Decoder:
    import io

    import fastavro

    try:
        schema = fastavro.parse_schema(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, fastavro.schema.SchemaParseException) as exc:
        raise ConfigError(
            f"{stream.source_file}: key `streams[{stream.name}].avro_schema_file`: cannot read an Avro schema "
            f"from {path}: {exc}",
            "point it at a JSON Avro schema (.avsc); relative paths are relative to the source file",
        ) from None

    def decode(value: bytes | None) -> bytes | str | None:
        if value is None:
            return None
        try:
            return json_text(fastavro.schemaless_reader(io.BytesIO(value), schema, None))
        except Exception as exc:
            return f"malformed Avro payload: {type(exc).__name__}: {exc}"

    return decode


def _avro_registry_decoder(registry: Any, topic: str) -> Decoder:
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    deserializer = AvroDeserializer(registry)
    context = SerializationContext(topic, MessageField.VALUE)

    def decode(value: bytes | None) -> bytes | str | None:
        if value is None:
            return None
        try:
            return json_text(deserializer(value, context))
        except Exception as exc:
            return f"malformed Avro payload (Schema Registry): {type(exc).__name__}: {exc}"

    return decode


def build(config: SourceConfig) -> KafkaSource:
    return KafkaSource(config)
