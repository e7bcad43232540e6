"""The Kinesis family against moto's server (`moto_server`, the Kinesis API over HTTP on loopback).

Loads read every shard to its end and resume after the committed sequence numbers; a shard closed
by a split is read to its end and marked finished, then its two children are read, in later commits
than the parent's remainder, and every record lands once. `lakehouse stream` follows the stream
until SIGTERM, then commits and exits 0.

moto's PutRecords still sends a split parent's partition keys to the closed parent (it picks the first
shard in creation order whose hash key range holds the key), so the records written after the split
are placed as Kinesis places them, into the open shard whose range holds the MD5 of their partition
key, through moto's in-process backend; the loader reads them over moto's HTTP API like any other.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pyarrow as pa
import pytest
from deltalake import DeltaTable, QueryBuilder
from moto.core import DEFAULT_ACCOUNT_ID
from moto.kinesis.models import kinesis_backends

from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze_rows, ledger_rows, source_config, write_source
from tests.helpers.stream_command import following, wait_for_bronze_rows
from tests.helpers.stream_servers import MotoServer

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture
def local_root(tmp_path: Path) -> LakehouseRoot:
    folder = tmp_path / "root"
    folder.mkdir()
    return LakehouseRoot.parse(str(folder))


def kinesis(server: MotoServer) -> Any:
    return boto3.client("kinesis", region_name="us-east-1", endpoint_url=server.endpoint, **CREDENTIALS)


def new_stream(server: MotoServer, shards: int) -> str:
    name = f"clicks-{uuid.uuid4().hex[:8]}"
    client = kinesis(server)
    client.create_stream(StreamName=name, ShardCount=shards)
    client.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 0.2})
    return name


def put(server: MotoServer, name: str, numbers: range) -> None:
    client = kinesis(server)
    for start in range(numbers.start, numbers.stop, 100):
        records = [
            {"Data": json.dumps({"n": n}).encode(), "PartitionKey": f"device-{n % 13}"}
            for n in range(start, min(start + 100, numbers.stop))
        ]
        assert client.put_records(StreamName=name, Records=records)["FailedRecordCount"] == 0


def put_by_hash_key(name: str, numbers: range) -> None:
    """Each record into the open shard whose hash key range holds the MD5 of its partition key, as
    Kinesis routes it (after a split: into a child), through moto's backend (see the module doc)."""
    stream = kinesis_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].streams[name]
    for n in numbers:
        key = f"device-{n % 13}"
        hashed = int(hashlib.md5(key.encode()).hexdigest(), 16)
        [shard] = [s for s in stream.shards.values() if s.is_open and s.starting_hash <= hashed <= s.ending_hash]
        shard.put_record(key, json.dumps({"n": n}).encode(), "")


def kinesis_source(folder: Path, server: MotoServer, name: str) -> Path:
    options = {"region": "us-east-1", "endpoint_url": server.endpoint, **CREDENTIALS}
    stream = {"name": "clicks", "stream_name": name, "batch_records": 70}
    return write_source(folder, [stream], source="web", type_="kinesis", options=options)


def numbers_in(root: LakehouseRoot) -> Counter[int]:
    rows = bronze_rows(root, "web", "clicks")
    return Counter(json.loads(base64.b64decode(row["Data"]))["n"] for row in rows)


def first_commit_of_each_record(root: LakehouseRoot) -> dict[int, int]:
    """The bronze table version (commit) in which each record first appears."""
    uri = root.bronze_uri("web", "clicks")
    first: dict[int, int] = {}
    for version in range(DeltaTable(uri).version() + 1):
        data = pa.table(QueryBuilder().register("t", DeltaTable(uri, version=version)).execute("select Data from t"))
        for text in data.column("Data").to_pylist():
            first.setdefault(json.loads(base64.b64decode(text))["n"], version)
    return first


def test_loads_resume_after_the_committed_sequence_numbers_and_read_a_splits_children_after_its_parent(
    moto_server: MotoServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    name = new_stream(moto_server, shards=2)
    path = kinesis_source(tmp_path, moto_server, name)
    put(moto_server, name, range(0, 400))
    first = load_source(local_root, source_config(path))[0]
    again = load_source(local_root, source_config(path))[0]
    put(moto_server, name, range(400, 550))  # the parent's remainder: written before the split, not loaded yet
    client = kinesis(moto_server)
    parent = client.list_shards(StreamName=name)["Shards"][0]
    low, high = (int(parent["HashKeyRange"][k]) for k in ("StartingHashKey", "EndingHashKey"))
    client.split_shard(StreamName=name, ShardToSplit=parent["ShardId"], NewStartingHashKey=str((low + high) // 2))
    put_by_hash_key(name, range(550, 700))  # after the split: the parent's keys go to its children
    after_split = load_source(local_root, source_config(path))[0]
    put_by_hash_key(name, range(700, 760))
    children_again = load_source(local_root, source_config(path))[0]

    numbers = numbers_in(local_root)
    assert not {n: c for n, c in numbers.items() if c > 1}, "duplicated records"
    assert set(numbers) == set(range(760))
    assert (first.rows, again.rows, after_split.rows, children_again.rows) == (400, 0, 300, 60)
    shards = json.loads(children_again.cursor_after)["shards"]
    children = sorted(s["ShardId"] for s in client.list_shards(StreamName=name)["Shards"] if s.get("ParentShardId"))
    assert shards[parent["ShardId"]] == "finished"  # the split parent, read to its end
    assert len(children) == 2 and all(shards[child] not in (None, "finished") for child in children)
    rows = bronze_rows(local_root, "web", "clicks")
    shard_of = {json.loads(base64.b64decode(row["Data"]))["n"]: row["ShardId"] for row in rows}
    from_children = {n for n, shard in shard_of.items() if shard in children}
    remainder = {n for n, shard in shard_of.items() if shard == parent["ShardId"] and n >= 400}
    assert from_children and remainder and from_children <= set(range(550, 760))
    commit = first_commit_of_each_record(local_root)
    assert max(commit[n] for n in remainder) < min(commit[n] for n in from_children)  # children after the parent
    assert {row["EncryptionType"] for row in bronze_rows(local_root, "web", "clicks")} == {"NONE"}


def test_a_missing_stream_is_a_clear_error(moto_server: MotoServer, local_root: LakehouseRoot, tmp_path: Path) -> None:
    path = kinesis_source(tmp_path, moto_server, "no-such-stream")

    with pytest.raises(SourceError, match="no-such-stream") as raised:
        load_source(local_root, source_config(path))
    assert "stream_name" in raised.value.fix


def test_lakehouse_stream_follows_the_stream_and_sigterm_commits_and_exits_0(
    moto_server: MotoServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    name = new_stream(moto_server, shards=2)
    kinesis_source(tmp_path, moto_server, name)
    with following("web", tmp_path, local_root, batch_size=50, interval=0.2) as ended:
        for burst in range(3):  # written while the command runs: it keeps following
            put(moto_server, name, range(burst * 100, (burst + 1) * 100))
            wait_for_bronze_rows(local_root, "web", "clicks", (burst + 1) * 100)
    assert ended.returncode == 0, ended.output
    numbers = numbers_in(local_root)
    assert set(numbers) == set(range(300)) and numbers.total() == 300
    [entry] = ledger_rows(local_root)
    assert (entry["status"], entry["rows_loaded"]) == ("success", 300)
    assert entry["batches"] >= 6  # micro-batches of at most 50 records
