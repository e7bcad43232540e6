"""Kafka → bronze throughput and peak memory on one process, next to a plain consumer that only writes Parquet.

    python bench/bench_kafka.py                      # 500,000 messages of ~500 bytes of JSON
    python bench/bench_kafka.py --messages 100000    # a quick look

Starts a private Apache Kafka 4.x broker (KRaft, the jars `.ci/install.d/kafka.sh` installs),
produces the messages into a 6-partition topic, then reads them all twice, each in a fresh child
process: the *floor* (a bare confluent-kafka consumer that parses each micro-batch of values with
Arrow's JSON reader and appends it to a Parquet file; no envelope, no Delta, no exactly-once) and
the *loader* (`lakehouse load` of a `type: kafka` source into a local bronze Delta table: envelopes,
quarantine checks, schema policy, one Delta commit per batch with its offsets). Prints messages/s,
MB/s and the child's peak RSS. Printing only: nothing here asserts on the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))  # this checkout's `loaders`, not an installed copy
PARTITIONS = 6
BATCH = 10_000  # the family's default batch_messages; the floor writes the same batches


def message(n: int, rng: random.Random) -> bytes:
    """About 500 bytes of JSON: an order-event-like record."""
    record = {
        "event_id": f"{rng.getrandbits(128):032x}",
        "event_type": "order.created",
        "event_version": 1,
        "occurred_at": "2026-01-01T02:08:21.000Z",
        "order_number": n,
        "user_id": rng.randrange(1, 100_000),
        "channel": rng.choice(["web", "ios", "android"]),
        "total": f"{rng.uniform(5, 900):.2f}",
        "payment": {"provider": "stripe", "charge_id": f"ch_{rng.getrandbits(96):024x}", "status": "captured"},
        "items": [
            {"sku": f"ELE-{rng.randrange(99999):05d}", "quantity": rng.randrange(1, 4), "unit_price": "113.99"}
            for _ in range(3)
        ],
        "note": "x" * 60,
    }
    return json.dumps(record, separators=(",", ":")).encode()


def produce(bootstrap: str, topic: str, count: int) -> int:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 1 << 20})
    rng = random.Random(7)
    size = 0
    for n in range(count):
        value = message(n, rng)
        size += len(value)
        while True:
            try:
                producer.produce(topic, value=value, key=str(n % 1000).encode())
                break
            except BufferError:
                producer.poll(0.1)
        if n % 10_000 == 0:
            producer.poll(0)
    producer.flush(120)
    return size


def run_child(mode: str, bootstrap: str, topic: str, folder: Path) -> tuple[float, int, int]:
    """(seconds, messages, peak RSS bytes) of one read in a fresh process."""
    command = [sys.executable, __file__, "--child", mode, "--bootstrap", bootstrap, "--topic", topic]
    command += ["--folder", str(folder)]
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures["seconds"], figures["messages"], figures["peak_rss"]


def floor(bootstrap: str, topic: str, folder: Path) -> dict[str, float]:
    import io

    import pyarrow.json as pajson
    import pyarrow.parquet as pq
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "bench-floor", "enable.auto.commit": False}
        | {"enable.partition.eof": True, "fetch.max.bytes": 64 << 20, "queued.max.messages.kbytes": 64 << 10}
    )
    ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in range(PARTITIONS)}
    total = sum(ends.values())
    started = time.monotonic()
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    writer, read, values = None, 0, []
    while read < total:
        for msg in consumer.consume(num_messages=10_000, timeout=0.2):
            if msg.error() is None:
                values.append(msg.value())
                read += 1
        if len(values) >= BATCH or (read >= total and values):
            options = pajson.ReadOptions(use_threads=False, block_size=64 << 20)
            table = pajson.read_json(io.BytesIO(b"\n".join(values)), read_options=options)
            if writer is None:
                writer = pq.ParquetWriter(folder / "floor.parquet", table.schema)
            writer.write_table(table)
            values = []
    if writer is not None:
        writer.close()
    consumer.close()
    return {"seconds": time.monotonic() - started, "messages": read}


def loader(bootstrap: str, topic: str, folder: Path) -> dict[str, float]:
    import yaml

    from lakehouse.core.storage import LakehouseRoot
    from loaders.core.config import load_source_config
    from loaders.pipeline import load_source

    (folder / "root").mkdir()
    source = {
        "source": "bench",
        "type": "kafka",
        "options": {"bootstrap_servers": bootstrap},
        "streams": [{"name": "events", "topic": topic, "batch_messages": BATCH}],
    }
    (folder / "bench.yml").write_text(yaml.safe_dump(source))
    root = LakehouseRoot.parse(str(folder / "root"))
    started = time.monotonic()
    [result] = load_source(root, load_source_config(folder / "bench.yml"))
    return {"seconds": time.monotonic() - started, "messages": result.rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=500_000)
    parser.add_argument("--child", choices=["floor", "loader"])
    parser.add_argument("--bootstrap")
    parser.add_argument("--topic")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    if args.child:
        import structlog

        structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
        run = floor if args.child == "floor" else loader
        figures = run(args.bootstrap, args.topic, args.folder)
        figures["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB
        print(json.dumps(figures))
        return

    from tests.helpers.stream_servers import KafkaServer

    server = KafkaServer(heap="1g").start()
    try:
        server.create_topic("bench", PARTITIONS)
        started = time.monotonic()
        size = produce(server.bootstrap, "bench", args.messages)
        print(
            f"produced {args.messages:,} messages, {size / 1e6:,.0f} MB ({size / args.messages:.0f} B each) "
            f"in {time.monotonic() - started:.1f}s; reading each way in a fresh process:"
        )
        print(f"{'reader':<34}{'messages':>10}{'seconds':>9}{'msgs/s':>10}{'MB/s':>8}{'peak RSS MB':>13}")
        for mode, label in (("floor", "plain consumer → Parquet (floor)"), ("loader", "kafka family → bronze Delta")):
            with tempfile.TemporaryDirectory() as folder:
                seconds, count, peak = run_child(mode, server.bootstrap, "bench", Path(folder))
            rate = count / seconds
            print(
                f"{label:<34}{count:>10,}{seconds:>9.1f}{rate:>10,.0f}{size / 1e6 / seconds:>8.1f}{peak / 1e6:>13,.0f}"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
