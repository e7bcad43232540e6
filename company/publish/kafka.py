"""The company's Kafka topics into a real Kafka cluster, each message at the partition and offset the files give.

Topics are created with the generator's partition counts. Each message is produced to its own
partition, with its key, headers and timestamp (CreateTime), in offset order, by an idempotent
producer: into a topic that only this publisher writes, the broker gives every message the offset
the files say, so a consumer sees the very records the files describe. A message whose offset is
below its partition's end offset is already there: publishing again adds nothing. A partition whose
end offset is *beyond* the files' next offset holds other data, and publishing stops with the fix.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from company.projections.streams import PARTITIONS
from company.publish.streams import StreamPublishReport, batches, system_meta
from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError, SourceError

TIMEOUT_S = 30.0


class KafkaPublisher:
    def __init__(self, bootstrap: str) -> None:
        from confluent_kafka import Producer
        from confluent_kafka.admin import AdminClient

        self.where = f"kafka://{bootstrap}"
        self.bootstrap = bootstrap
        self.admin = AdminClient({"bootstrap.servers": bootstrap})
        try:
            self.admin.list_topics(timeout=TIMEOUT_S)
        except Exception as exc:
            raise SourceError(
                f"cannot reach Kafka at {bootstrap}: {exc}", "check --kafka HOST:PORT and that the broker runs"
            ) from None
        self.producer = Producer(
            {"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20, "compression.type": "lz4"}
        )

    def publish(self, folder: Path) -> list[StreamPublishReport]:
        self._ensure_topics()
        ends = {topic: self._end_offsets(topic) for topic in PARTITIONS}
        reports = {spec.stream: StreamPublishReport(spec.stream, spec.native_name) for spec in SYSTEMS["kafka"].streams}
        for _batch, spec, records, dirty in batches(folder, "kafka"):
            report = reports[spec.stream]
            report.skipped_dirty += dirty
            sent = sum(self._produce(spec.native_name, record, ends[spec.native_name]) for record in records)
            report.messages += sent
            report.batches += 1 if sent else 0
        if self.producer.flush(TIMEOUT_S * 4):
            raise SourceError(f"Kafka at {self.bootstrap} did not acknowledge every message", "publish again")
        return list(reports.values())

    def _produce(self, topic: str, record: dict[str, Any], ends: dict[int, int]) -> int:
        partition, offset = record["partition"], record["offset"]
        if offset < ends[partition]:
            return 0  # published by an earlier run
        if offset > ends[partition]:
            raise ConfigError(
                f"Kafka topic {topic} partition {partition} ends at offset {ends[partition]}, "
                f"but the company's next message there has offset {offset}: the topic holds other messages",
                f"delete the topic {topic} (or use a fresh cluster) and publish again",
            )
        headers = [(key, str(value).encode()) for key, value in (record.get("headers") or {}).items()]
        value = json_bytes(record["value"])
        key = record["key"].encode() if record.get("key") is not None else None
        self.producer.produce(
            topic, value=value, key=key, partition=partition, timestamp=record["timestamp"], headers=headers
        )
        self.producer.poll(0)
        ends[partition] += 1
        return 1

    def _ensure_topics(self) -> None:
        from confluent_kafka.admin import NewTopic

        existing = self.admin.list_topics(timeout=TIMEOUT_S).topics
        for topic, partitions in PARTITIONS.items():
            if topic in existing:
                if len(existing[topic].partitions) != partitions:
                    raise ConfigError(
                        f"Kafka topic {topic} has {len(existing[topic].partitions)} partitions, "
                        f"the company's has {partitions}",
                        f"delete the topic {topic} and publish again",
                    )
                continue
            futures = self.admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
            futures[topic].result(timeout=TIMEOUT_S)

    def _end_offsets(self, topic: str) -> dict[int, int]:
        from confluent_kafka import Consumer, KafkaException, TopicPartition

        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "lakehouse-publisher"})
        try:
            for _attempt in range(60):  # a topic just created has no partition leaders for a moment
                try:
                    return {
                        p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT_S)[1]
                        for p in range(PARTITIONS[topic])
                    }
                except KafkaException:  # NOT_LEADER_FOR_PARTITION and friends, until the election is done
                    time.sleep(0.5)
            raise SourceError(f"Kafka topic {topic} has no leader for its partitions", "check the brokers, retry")
        finally:
            consumer.close()

    def loader_source(self) -> dict[str, Any]:
        streams = [
            {"name": spec.stream, "topic": spec.native_name, "primary_key": list(spec.primary_key)}
            for spec in SYSTEMS["kafka"].streams
        ]
        return {
            **system_meta("kafka"),
            "type": "kafka",
            "description": f"The synthetic company's Kafka topics, published into {self.where}.",
            "options": {"bootstrap_servers": self.bootstrap},
            "streams": streams,
        }

    def close(self) -> None:
        self.producer.flush(TIMEOUT_S)


def json_bytes(value: Any) -> bytes:
    import json

    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def connect(address: str) -> KafkaPublisher:
    return KafkaPublisher(address)
