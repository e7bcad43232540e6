"""DynamoDB sources (`type: dynamodb`, boto3): a parallel scan, then DynamoDB Streams for changes.

A stream is one table. Its cursor (in the Delta commit) is a JSON document with a `phase`:

- `full`: the first load (and every full refresh) scans the table in `segments` parallel segments
  (`Segment`/`TotalSegments`), one thread each, `batch_rows` items per page; the cursor keeps every
  segment's `LastEvaluatedKey`, so a killed load resumes each segment at its last committed page.
  Before scanning, the table's stream (if it has one) is read to its end on every shard, so that
  changes start after the scan began.
- `changes`: DynamoDB Streams, shard by shard (parents before children), each shard from the
  sequence number after the last one committed (`AFTER_SEQUENCE_NUMBER`), until it is caught up
  or closed. INSERT and MODIFY become the item's new image with `_op` insert / update; REMOVE
  becomes its key with `_op` delete. The cursor holds each shard's last sequence number and the
  closed shards read to their end.
- A table without a stream (or `streams: off`) is scanned whole on every load (`rescan`); the log
  says so (`dynamodb.streams.unavailable`). Use `mode: merge` (or `full_refresh`) for it.

Attribute types: S string, N decimal (decimal128(38, s), the batch's largest scale; text when it
does not fit), B binary, BOOL bool, NULL null, M struct, L list (JSON text when its elements share no
type), SS / NS / BS lists of strings, decimals, binaries (sets sorted, so a row reads the same twice).

Source options: `region`, `endpoint_url` (an emulator), `access_key_id` and `secret_access_key`
(`${ENV}` only; without them boto3's default chain). Stream keys: `table` (default: the stream's
name), `segments` (default 4), `batch_rows` (default 1,000), `streams` (auto | off).
"""

from __future__ import annotations

import decimal
import json
import queue
import threading
from collections.abc import Iterator
from typing import Any, Literal

import pyarrow as pa
import structlog
from pydantic import BaseModel, ConfigDict, Field

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.config import SourceConfig, StreamConfig
from loaders.core.documents import documents_to_arrow
from loaders.core.protocol import Batch
from loaders.core.retry import TransientSourceError

log = structlog.get_logger(__name__)
MAX_DIGITS = 38  # DynamoDB numbers carry up to 38 significant digits
SECRET_KEYS = ("secret_access_key", "session_token")


class DynamoOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    region: str = "us-east-1"
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None


class DynamoStreamOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    table: str | None = None
    segments: int = Field(default=4, ge=1, le=64)
    batch_rows: int = Field(default=1_000, gt=0)
    streams: Literal["auto", "off"] = "auto"


def attribute(value: dict[str, Any]) -> Any:
    """One typed attribute value (`{"N": "1.5"}`) as a plain Python value."""
    (kind, raw), *_ = value.items()
    if kind == "S":
        return raw
    if kind == "N":
        return decimal.Decimal(raw)
    if kind == "B":
        return bytes(raw) if not isinstance(raw, str) else raw.encode()
    if kind == "BOOL":
        return bool(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: attribute(v) for k, v in raw.items()}
    if kind == "L":
        return [attribute(v) for v in raw]
    if kind == "SS":
        return sorted(raw)
    if kind == "NS":
        return sorted(decimal.Decimal(n) for n in raw)
    if kind == "BS":
        return sorted(bytes(b) if not isinstance(b, str) else b.encode() for b in raw)
    raise SourceError(
        f"unknown DynamoDB attribute type {kind!r}", "report it: the loader knows S N B BOOL NULL M L SS NS BS"
    )


def items_to_arrow(items: list[dict[str, Any]]) -> pa.Table:
    rows = [{name: attribute(value) for name, value in item.items()} for item in items]
    return documents_to_arrow(rows, max_digits=MAX_DIGITS, to_json=lambda v: json.dumps(v, default=str))


def record_to_item(record: dict[str, Any]) -> dict[str, Any]:
    """A stream record as a typed item with `_op`."""
    change = record["dynamodb"]
    if record["eventName"] == "REMOVE":
        return {**change["Keys"], "_op": {"S": "delete"}}
    operation = "insert" if record["eventName"] == "INSERT" else "update"
    return {**change["NewImage"], "_op": {"S": operation}}


class DynamoStream:
    def __init__(self, source: DynamoSource, config: StreamConfig) -> None:
        self.source = source
        self.config = config
        self.options = config.family_options(DynamoStreamOptions)
        self.table = self.options.table or config.name

    def read(self, cursor: str | None) -> Iterator[Batch]:
        state = json.loads(cursor) if cursor else None
        try:
            if state is None or state["phase"] in ("full", "rescan"):
                yield from self._full(state if state and state["phase"] == "full" else None)
            else:
                yield from self._changes(state)
        except SourceError:
            raise
        except Exception as exc:
            raise _source_error(exc, self.table) from None

    # --- the parallel scan ---------------------------------------------------------------------

    def _full(self, state: dict[str, Any] | None) -> Iterator[Batch]:
        if state is None:
            segments = [{"key": None, "done": False} for _ in range(self.options.segments)]
            state = {"phase": "full", "segments": segments, "next": self._change_start()}
        pending = [i for i, s in enumerate(state["segments"]) if not s["done"]]
        for index, items, key in self._parallel_pages(state["segments"], pending):
            state["segments"][index] = {"key": key, "done": key is None}
            yield Batch(items_to_arrow(items), json.dumps(state))
        yield Batch(pa.table({}), json.dumps(state["next"]))  # done: the next load reads changes

    def _parallel_pages(self, segments: list[dict[str, Any]], pending: list[int]) -> Iterator[tuple[int, list, Any]]:
        pages: queue.Queue[tuple[int, list, Any] | BaseException | None] = queue.Queue(maxsize=2 * len(pending) or 1)
        stop = threading.Event()
        client = self.source.client("dynamodb")

        def worker(index: int) -> None:
            try:
                key = segments[index]["key"]
                while not stop.is_set():
                    request = {"TableName": self.table, "Limit": self.options.batch_rows, "ConsistentRead": True}
                    request |= {"Segment": index, "TotalSegments": len(segments)}
                    if key is not None:
                        request["ExclusiveStartKey"] = key
                    page = client.scan(**request)
                    key = page.get("LastEvaluatedKey")
                    pages.put((index, page.get("Items", []), key))
                    if key is None:
                        return
            except BaseException as exc:  # handed to the reading thread
                pages.put(exc)

        for index in pending:
            threading.Thread(target=worker, args=(index,), daemon=True).start()
        remaining = len(pending)
        try:
            while remaining:
                item = pages.get()
                if isinstance(item, BaseException):
                    raise item
                assert item is not None
                remaining -= item[2] is None
                yield item
        finally:
            stop.set()
            while not pages.empty():
                pages.get_nowait()

    # --- DynamoDB Streams ------------------------------------------------------------------------

    def _stream_arn(self) -> str | None:
        if self.options.streams == "off":
            return None
        table = self.source.client("dynamodb").describe_table(TableName=self.table)["Table"]
        spec = table.get("StreamSpecification") or {}
        arn = table.get("LatestStreamArn")
        if (
            not spec.get("StreamEnabled")
            or not arn
            or spec.get("StreamViewType") not in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
        ):
            log.info(
                "dynamodb.streams.unavailable",
                stream=self.config.name,
                table=self.table,
                reason="streams off" if self.options.streams == "off" else "no stream with new images on the table",
                fallback="a full scan on every load",
            )
            return None
        return arn

    def _change_start(self) -> dict[str, Any]:
        arn = self._stream_arn()
        if arn is None:
            return {"phase": "rescan"}
        shards: dict[str, str | None] = {}
        closed: list[str] = []
        for shard in self._shards(arn):
            last, ended = self._drain(arn, shard["ShardId"])
            shards[shard["ShardId"]] = last
            if ended:
                closed.append(shard["ShardId"])
        return {"phase": "changes", "arn": arn, "shards": shards, "closed": closed}

    def _shards(self, arn: str) -> list[dict[str, Any]]:
        client = self.source.client("dynamodbstreams")
        shards, start = [], None
        while True:
            request = {"StreamArn": arn} | ({"ExclusiveStartShardId": start} if start else {})
            description = client.describe_stream(**request)["StreamDescription"]
            shards += description.get("Shards", [])
            start = description.get("LastEvaluatedShardId")
            if not start:
                break
        known = {s["ShardId"] for s in shards}
        ordered, placed = [], set()
        while len(ordered) < len(shards):  # parents before their children
            for shard in shards:
                parent = shard.get("ParentShardId")
                if shard["ShardId"] not in placed and (parent is None or parent not in known or parent in placed):
                    ordered.append(shard)
                    placed.add(shard["ShardId"])
        return ordered

    def _iterator(self, arn: str, shard: str, after: str | None) -> str:
        client = self.source.client("dynamodbstreams")
        request = {"StreamArn": arn, "ShardId": shard}
        request |= (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after}
            if after
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        return client.get_shard_iterator(**request)["ShardIterator"]

    def _drain(self, arn: str, shard: str, after: str | None = None) -> tuple[str | None, bool]:
        """Read a shard to its current end without keeping records: (last sequence number, closed)."""
        client = self.source.client("dynamodbstreams")
        iterator: str | None = self._iterator(arn, shard, after)
        while iterator:
            page = client.get_records(ShardIterator=iterator, Limit=1000)
            records = page.get("Records", [])
            if records:
                after = records[-1]["dynamodb"]["SequenceNumber"]
            iterator = page.get("NextShardIterator")
            if not records:
                return after, iterator is None
        return after, True

    def _changes(self, state: dict[str, Any]) -> Iterator[Batch]:
        client = self.source.client("dynamodbstreams")
        arn = state["arn"]
        for shard in self._shards(arn):
            shard_id = shard["ShardId"]
            if shard_id in state["closed"]:
                continue
            iterator: str | None = self._iterator(arn, shard_id, state["shards"].get(shard_id))
            while iterator:
                page = client.get_records(ShardIterator=iterator, Limit=self.options.batch_rows)
                records = page.get("Records", [])
                iterator = page.get("NextShardIterator")
                if records:
                    state = {
                        **state,
                        "shards": {**state["shards"], shard_id: records[-1]["dynamodb"]["SequenceNumber"]},
                    }
                if iterator is None:
                    state = {**state, "closed": [*state["closed"], shard_id]}
                if records or iterator is None:
                    yield Batch(items_to_arrow([record_to_item(r) for r in records]), json.dumps(state))
                if not records:
                    break


class DynamoSource:
    def __init__(self, config: SourceConfig) -> None:
        for key in SECRET_KEYS:
            value = config.options.get(key)
            if value is not None and not (isinstance(value, str) and "${" in value):
                raise ConfigError(
                    f"{config.path}: key `options.{key}` holds a literal secret",
                    f"reference it instead, e.g. `{key}: ${{AWS_{key.upper()}}}`, and set that variable",
                )
        self.name = config.source
        self.options = config.family_options(DynamoOptions)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._streams = [DynamoStream(self, stream) for stream in config.streams]

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                import boto3

                kwargs: dict[str, Any] = {"region_name": self.options.region}
                if self.options.endpoint_url:
                    kwargs["endpoint_url"] = self.options.endpoint_url
                if self.options.access_key_id:
                    kwargs |= {
                        "aws_access_key_id": self.options.access_key_id,
                        "aws_secret_access_key": self.options.secret_access_key,
                        "aws_session_token": self.options.session_token,
                    }
                self._clients[service] = boto3.client(service, **kwargs)
            return self._clients[service]

    def streams(self) -> list[DynamoStream]:
        return self._streams

    def check(self) -> None:
        for stream in self._streams:
            try:
                self.client("dynamodb").describe_table(TableName=stream.table)
            except Exception as exc:
                raise _source_error(exc, stream.table) from None


def _source_error(exc: BaseException, table: str) -> SourceError:
    from botocore.exceptions import ClientError, ConnectionError, EndpointConnectionError

    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, EndpointConnectionError | ConnectionError):
        return TransientSourceError(f"cannot reach DynamoDB for table {table!r}: {text}")
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"):
            return TransientSourceError(f"DynamoDB throttled the read of {table!r}: {text}")
        if code == "ExpiredIteratorException":  # a new iterator from the committed sequence number will do
            return TransientSourceError(f"a DynamoDB Streams iterator of {table!r} expired: {text}")
        if code == "ResourceNotFoundException":
            return SourceError(f"DynamoDB table {table!r} does not exist: {text}", "check `table:` and the region")
        if code == "TrimmedDataAccessException":
            return SourceError(
                f"the stream of {table!r} no longer holds the changes after the last load: {text}",
                "reload the stream from scratch with --full-refresh",
            )
    return SourceError(f"DynamoDB read of {table!r} failed: {text}", "check the table, the region and the credentials")


def build(config: SourceConfig) -> DynamoSource:
    return DynamoSource(config)
