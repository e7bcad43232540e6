"""The Kinesis family against moto's server (`moto_server`, the Kinesis API over HTTP on loopback).

Loads read every shard to its end and resume after the committed sequence numbers; a shard closed
by a split is read to its end and marked finished, and every record lands once. (moto keeps routing
records to a split parent, so records written after a reshard cannot be checked here; the children's
wait for their parents is a unit of `_readable`.)
"""

from __future__ import annotations

import base64
import json
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest

from lakehouse.core.errors import SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.pipeline import load_source
from tests.helpers.loader_io import bronze_rows, source_config, write_source
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


def kinesis_source(folder: Path, server: MotoServer, name: str) -> Path:
    options = {"region": "us-east-1", "endpoint_url": server.endpoint, **CREDENTIALS}
    stream = {"name": "clicks", "stream_name": name, "batch_records": 70}
    return write_source(folder, [stream], source="web", type_="kinesis", options=options)


def numbers_in(root: LakehouseRoot) -> Counter[int]:
    rows = bronze_rows(root, "web", "clicks")
    return Counter(json.loads(base64.b64decode(row["Data"]))["n"] for row in rows)


def test_loads_resume_after_the_committed_sequence_numbers_and_finish_a_split_parent(
    moto_server: MotoServer, local_root: LakehouseRoot, tmp_path: Path
) -> None:
    name = new_stream(moto_server, shards=2)
    path = kinesis_source(tmp_path, moto_server, name)
    put(moto_server, name, range(0, 400))
    first = load_source(local_root, source_config(path))[0]
    again = load_source(local_root, source_config(path))[0]
    put(moto_server, name, range(400, 550))
    client = kinesis(moto_server)
    parent = client.list_shards(StreamName=name)["Shards"][0]
    low, high = (int(parent["HashKeyRange"][k]) for k in ("StartingHashKey", "EndingHashKey"))
    client.split_shard(StreamName=name, ShardToSplit=parent["ShardId"], NewStartingHashKey=str((low + high) // 2))
    after_split = load_source(local_root, source_config(path))[0]

    numbers = numbers_in(local_root)
    assert not {n: c for n, c in numbers.items() if c > 1}, "duplicated records"
    assert set(numbers) == set(range(550))
    assert (first.rows, again.rows, after_split.rows) == (400, 0, 150)
    shards = json.loads(after_split.cursor_after)["shards"]
    assert shards[parent["ShardId"]] == "finished"  # the split parent, read to its end
    assert {row["EncryptionType"] for row in bronze_rows(local_root, "web", "clicks")} == {"NONE"}


def test_a_missing_stream_is_a_clear_error(moto_server: MotoServer, local_root: LakehouseRoot, tmp_path: Path) -> None:
    path = kinesis_source(tmp_path, moto_server, "no-such-stream")

    with pytest.raises(SourceError, match="no-such-stream") as raised:
        load_source(local_root, source_config(path))
    assert "stream_name" in raised.value.fix
