"""Kinesis data streams (`type: kinesis`, boto3): per-shard iterators, sequence numbers in the Delta commit.

The cursor holds, per shard, the sequence number of the last record committed, or that the shard
is finished (closed by a reshard and read to its end). A read lists the shards, and reads each shard
from just after its committed sequence number (`AFTER_SEQUENCE_NUMBER`; `TRIM_HORIZON` for a shard it
has not seen) in the order resharding demands: a child shard is read only once its parents (and
adjacent parent, after a merge) are finished, so a partition key's records land in order across a
split or a merge. Each micro-batch comes from one shard and commits with the whole cursor, so a crash
at any point neither duplicates nor loses a record.

A load (`lakehouse load`) reads every open shard until it is caught up (`MillisBehindLatest` 0 and
no records); `lakehouse stream` keeps polling, and lists the shards again now and then to find
reshards. Records become rows shaped like the company's exported files (SequenceNumber,
ApproximateArrivalTimestamp in epoch seconds, Data as base64, PartitionKey, ShardId, EncryptionType):
the payload stays opaque bytes, so no record is ever rejected here.

Source options: `region`, `endpoint_url`, `aws_access_key_id`, `aws_secret_access_key`. Stream keys:
`stream_name` (default: the stream's name), `batch_records`, `poll_interval_s`. See README.md.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import structlog
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import SourceError
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.protocol import Batch
from loaders.core.retry import RateLimitedError, TransientSourceError

log = structlog.get_logger("loaders.kinesis")

FINISHED = "finished"
SCHEMA = pa.schema(
    [
        ("SequenceNumber", pa.string()),
        ("ApproximateArrivalTimestamp", pa.float64()),
        ("Data", pa.string()),
        ("PartitionKey", pa.string()),
        ("ShardId", pa.string()),
        ("EncryptionType", pa.string()),
    ]
)


class KinesisOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = "us-east-1"
    endpoint_url: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None


class KinesisStreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stream_name: str | None = None
    batch_records: int = Field(default=10_000, ge=1, le=10_000)  # one GetRecords call at most
    poll_interval_s: float = Field(default=1.0, gt=0)  # following: the wait when every shard is caught up


@dataclass
class KinesisCursor:
    """Per shard: the last committed sequence number, or `finished`."""

    shards: dict[str, str] = field(default_factory=dict)

    def dump(self) -> str:
        return json.dumps({"shards": dict(sorted(self.shards.items()))}, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> KinesisCursor:
        return cls(dict(json.loads(raw)["shards"])) if raw else cls()


class KinesisSource:
    def __init__(self, config: SourceConfig) -> None:
        self.name = config.source
        self.options = config.family_options(KinesisOptions)
        self._streams = [KinesisStream(self, stream) for stream in config.streams]

    def client(self) -> Any:
        import boto3

        settings: dict[str, Any] = {"region_name": self.options.region}
        if self.options.endpoint_url:
            settings["endpoint_url"] = self.options.endpoint_url
        if self.options.aws_access_key_id:
            settings["aws_access_key_id"] = self.options.aws_access_key_id
            settings["aws_secret_access_key"] = self.options.aws_secret_access_key
        return boto3.client("kinesis", **settings)

    def streams(self) -> list[KinesisStream]:
        return self._streams

    def check(self) -> None:
        client = self.client()
        for stream in self._streams:
            try:
                client.describe_stream_summary(StreamName=stream.stream_name)
            except Exception as exc:
                raise SourceError(
                    f"source {self.name!r}: cannot describe the Kinesis stream {stream.stream_name}: {_message(exc)}",
                    "check the stream's name (`stream_name`), options.region and endpoint_url, and the credentials",
                ) from None


class KinesisStream:
    follows = True

    def __init__(self, source: KinesisSource, stream: StreamConfig) -> None:
        self.config = stream
        self.options = stream.family_options(KinesisStreamOptions)
        self.stream_name = self.options.stream_name or stream.name
        self.source = source

    def read(self, cursor: str | None, stop: threading.Event | None = None) -> Iterator[Batch]:
        yield from _StreamRead(self, self.source.client(), KinesisCursor.load(cursor), stop).batches()


def readable_shards(shards: list[dict[str, Any]], state: dict[str, str], caught_up: set[str]) -> list[dict[str, Any]]:
    """The shards to read now: not finished, not caught up in this pass, and every parent finished (or gone).

    `state` maps a shard id to the last sequence number read or `FINISHED`. After a split or a merge, a
    child shard waits until its parents are read to their end, so a key's records stay in order.
    """
    known = {s["ShardId"] for s in shards}
    out = []
    for shard in shards:
        sid = shard["ShardId"]
        if state.get(sid) == FINISHED or sid in caught_up:
            continue
        parents = [shard.get("ParentShardId"), shard.get("AdjacentParentShardId")]
        if all(p is None or p not in known or state.get(p) == FINISHED for p in parents):
            out.append(shard)
    return out


class _StreamRead:
    def __init__(self, stream: KinesisStream, client: Any, cursor: KinesisCursor, stop: threading.Event | None) -> None:
        self.stream = stream
        self.client = client
        self.state = dict(cursor.shards)
        self.stop = stop
        self.iterators: dict[str, str | None] = {}
        self.caught_up: set[str] = set()

    def batches(self) -> Iterator[Batch]:
        """Pass after pass over the readable shards; a load ends when none is left to read."""
        shards = self._list_shards()
        while True:
            readable = readable_shards(shards, self.state, self.caught_up)
            if not readable:
                if self.stop is None or self.stop.is_set():
                    return
                self.stop.wait(self.stream.options.poll_interval_s)
                self.caught_up.clear()
            for shard in readable:
                yield from self._read_shard(shard)
                if self.stop is not None and self.stop.is_set():
                    return
            shards = self._list_shards()  # a finished parent opens its children; reshards appear

    def _read_shard(self, shard: dict[str, Any]) -> Iterator[Batch]:
        """Records of one shard until it is caught up (or closed and finished)."""
        sid = shard["ShardId"]
        closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
        iterator = self.iterators.get(sid) or self._iterator(sid)
        while iterator is not None:
            response = self._get_records(sid, iterator)
            records = response["Records"]
            iterator = response.get("NextShardIterator")
            self.iterators[sid] = iterator
            if records:
                self.state[sid] = records[-1]["SequenceNumber"]
            elif closed and response.get("MillisBehindLatest", 0) == 0:
                iterator = None  # a closed shard caught up gets nothing more (Kinesis also drops the iterator)
            if iterator is None:  # closed by a reshard and read to its end
                self.state[sid] = FINISHED
            if records or iterator is None:
                yield Batch(_table(records, sid), KinesisCursor(dict(self.state)).dump())
            if iterator is None:
                return
            if not records and response.get("MillisBehindLatest", 0) == 0:
                self.caught_up.add(sid)
                return
            if self.stop is not None and self.stop.is_set():
                return

    def _iterator(self, sid: str) -> str | None:
        after = self.state.get(sid)
        request: dict[str, Any] = {"StreamName": self.stream.stream_name, "ShardId": sid}
        if after:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": after}
        else:
            request["ShardIteratorType"] = "TRIM_HORIZON"
        return self._call("get_shard_iterator", **request)["ShardIterator"]

    def _get_records(self, sid: str, iterator: str) -> dict[str, Any]:
        try:
            return self._call("get_records", ShardIterator=iterator, Limit=self.stream.options.batch_records)
        except _Expired:
            self.iterators.pop(sid, None)
            return self._call("get_records", ShardIterator=self._iterator(sid), Limit=self.stream.options.batch_records)

    def _list_shards(self) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamName": self.stream.stream_name}
        while True:
            response = self._call("list_shards", **request)
            shards.extend(response["Shards"])
            token = response.get("NextToken")
            if not token:
                return shards
            request = {"NextToken": token}

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        try:
            return getattr(self.client, operation)(**request)
        except Exception as exc:
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
            name = self.stream.stream_name
            if code == "ExpiredIteratorException":
                raise _Expired() from None
            if code in ("ProvisionedThroughputExceededException", "LimitExceededException", "ThrottlingException"):
                raise RateLimitedError(f"Kinesis stream {name}: {code}", retry_after=1.0) from None
            if code == "ResourceNotFoundException":
                raise SourceError(
                    f"Kinesis stream {name} does not exist",
                    "create the stream, or correct the stream's `stream_name` key",
                ) from None
            if code in ("", "InternalFailure", "ServiceUnavailable", "KMSThrottlingException"):
                raise TransientSourceError(f"Kinesis stream {name}: {operation} failed: {_message(exc)}") from None
            raise SourceError(
                f"Kinesis stream {name}: {operation} failed: {_message(exc)}",
                "check the credentials' permissions (kinesis:ListShards, GetShardIterator, GetRecords)",
            ) from None


class _Expired(Exception):
    """A shard iterator older than five minutes: get a new one from the last sequence number read."""


def _table(records: list[dict[str, Any]], sid: str) -> pa.Table:
    columns = [
        [r["SequenceNumber"] for r in records],
        [round(r["ApproximateArrivalTimestamp"].timestamp(), 3) for r in records],
        [base64.b64encode(r["Data"]).decode() for r in records],
        [r["PartitionKey"] for r in records],
        [sid] * len(records),
        [r.get("EncryptionType") or "NONE" for r in records],
    ]
    return pa.Table.from_arrays([pa.array(c, f.type) for c, f in zip(columns, SCHEMA, strict=True)], schema=SCHEMA)


def _message(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def build(config: SourceConfig) -> KinesisSource:
    return KinesisSource(config)
