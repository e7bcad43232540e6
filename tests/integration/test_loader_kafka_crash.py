"""Kafka exactly once: loads SIGKILLed at random points while a producer writes, then re-run.

A producer thread writes a few thousand small JSON messages (a few malformed) into a 3-partition
topic of the real broker, in bursts, while loads run in child processes (`tests/helpers/loader_driver.py`)
and are SIGKILLed after a random number of committed batches plus a random few milliseconds (so kills
land while consuming, between the quarantine and the bronze commit, inside a commit...). Each attempt
draws its batch size anew. Once the producer is done, one load runs to the end: bronze holds every
produced message exactly once, the quarantine every malformed one exactly once, and the ledger no
load left `running`. The random choices come from a fixed seed; nothing asserts on time.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import yaml
from confluent_kafka import Producer

from lakehouse.core.storage import LakehouseRoot
from tests.helpers.loader_io import DRIVER_COMMAND, PROJECT_DIR, bronze_rows, ledger_rows, quarantine_rows
from tests.helpers.stream_servers import KafkaServer

MESSAGES = 3_000
MALFORMED_EVERY = 701  # message numbers divisible by this are not JSON
BURST = 60
KILLS = 20
BATCH_SIZES = (40, 75, 110)


def produce_in_bursts(server: KafkaServer, topic: str, done: threading.Event) -> None:
    producer = Producer({"bootstrap.servers": server.bootstrap, "enable.idempotence": True, "linger.ms": 2})
    try:
        for start in range(0, MESSAGES, BURST):
            for n in range(start, min(start + BURST, MESSAGES)):
                value = b"{not json %d" % n if n % MALFORMED_EVERY == 0 else json.dumps({"n": n, "pad": "x" * 40})
                producer.produce(topic, value=value, key=str(n).encode())
            producer.flush(30)
            time.sleep(0.15)
        assert producer.flush(30) == 0
    finally:
        done.set()


def write_source(path: Path, server: KafkaServer, topic: str, batch: int) -> None:
    document = {
        "source": "bus",
        "type": "kafka",
        "options": {"bootstrap_servers": server.bootstrap},
        "streams": [{"name": "events", "topic": topic, "batch_messages": batch}],
    }
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def run_load(root: LakehouseRoot, source: Path, kill_after: int | None, delay: float) -> bool:
    """One load in a child process; SIGKILLed after `kill_after` committed batches. True if killed."""
    command = [*DRIVER_COMMAND, "--root", root.uri, "--source-file", str(source)]
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy(), cwd=PROJECT_DIR
    )
    assert child.stdout is not None
    output: list[str] = []
    if kill_after is None:
        text = child.stdout.read()
        assert child.wait() == 0, text
        return False
    started, committed = False, 0
    while not started or committed < kill_after:
        line = child.stdout.readline()
        if not line:
            assert child.wait() == 0, "".join(output)
            return False
        output.append(line)
        started = started or line.startswith("started")
        committed += line.startswith("batch ")
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    return child.returncode == -signal.SIGKILL


def test_sigkilled_kafka_loads_leave_every_message_exactly_once(kafka_server: KafkaServer, tmp_path: Path) -> None:
    topic = f"crash_{uuid.uuid4().hex[:8]}"
    kafka_server.create_topic(topic, 3)
    (tmp_path / "root").mkdir()
    root = LakehouseRoot.parse(str(tmp_path / "root"))
    source = tmp_path / "bus.yml"
    rng = random.Random(20261205)
    done = threading.Event()
    producer = threading.Thread(target=produce_in_bursts, args=(kafka_server, topic, done), daemon=True)
    producer.start()

    kills = attempts = 0
    while kills < KILLS and attempts < 4 * KILLS:
        attempts += 1
        write_source(source, kafka_server, topic, rng.choice(BATCH_SIZES))
        kills += run_load(root, source, kill_after=rng.randint(0, 3), delay=rng.uniform(0, 0.05))
    assert done.wait(120), "the producer did not finish"
    producer.join()
    write_source(source, kafka_server, topic, rng.choice(BATCH_SIZES))
    run_load(root, source, kill_after=None, delay=0)

    assert kills >= KILLS
    numbers = Counter(row["value"]["n"] for row in bronze_rows(root, "bus", "events"))
    malformed = {n for n in range(MESSAGES) if n % MALFORMED_EVERY == 0}
    assert not {n: c for n, c in numbers.items() if c > 1}, "duplicated messages after SIGKILLs"
    assert set(numbers) == set(range(MESSAGES)) - malformed, "lost messages after SIGKILLs"
    quarantined = Counter(row["raw_payload"] for row in quarantine_rows(root))
    assert quarantined == Counter(f"{{not json {n}" for n in malformed)
    statuses = Counter(row["status"] for row in ledger_rows(root))
    assert set(statuses) <= {"killed", "success"} and statuses["killed"] >= 1, statuses
