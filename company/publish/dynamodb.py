"""DynamoDB: the app's tables (`user_preferences`, `session_data`), through boto3 (AWS, or moto's server).

Tables are created on demand with the stream's key as their partition key and a DynamoDB stream of
new and old images, which is what the DynamoDB loader reads changes from after its first scan (puts
as inserts and updates, deletes as tombstones). The generator's files already hold typed items
(DynamoDB's export JSON), so each item is put as written. A batch is `BatchWriteItem` calls (25
requests each, unprocessed ones retried): every item put whole, then the day's deleted keys removed
(the cart sessions DynamoDB's TTL expires); then its lines in the publish log table
(`_lakehouse_publish_log`, keyed by stream and batch). A run cut short between the two applies the
batch again next time, which leaves the same items (the stream then carries a repeated image, which
the loader's merge absorbs). The TTL itself is not switched on: the simulated company's dates are in
the past, so a real table would expire every session at once.

The endpoint comes from `--dynamodb`, the region and credentials from the AWS environment
(`AWS_REGION` / `AWS_DEFAULT_REGION`, default us-east-1; boto3's credential chain), as the written
source file leaves them.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from company.manifest import BatchStats
from company.publish.base import PUBLISH_LOG, guarded
from company.publish.changes import DocumentChanges, read_documents
from company.spec import Record, StreamDef
from company.systems import SYSTEMS
from lakehouse.core.errors import ConfigError, SourceError

T = TypeVar("T")
KEY_TYPE = "S"  # every key of the company's DynamoDB tables is a string attribute
WRITES_PER_CALL = 25  # BatchWriteItem's limit
ATTEMPTS = 8
LOG_KEYS = (("stream", "HASH"), ("batch", "RANGE"))


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def clean(spec: StreamDef) -> Callable[[str], Record | None]:
    """An export line's item; None for a dirty line (cut off, no key, or an update field not a number)."""
    key = spec.primary_key[0]

    def item(line: str) -> Record | None:
        try:
            record = json.loads(line)
        except ValueError:
            return None
        item = record.get("Item") if isinstance(record, dict) else None
        if not isinstance(item, dict) or not isinstance(item.get(key), dict):
            return None
        if spec.cursor_field and not isinstance(item.get(spec.cursor_field), dict):
            return None
        return item

    return item


def key_fields(spec: StreamDef) -> Callable[[str], Record]:
    return lambda line: {k: json.loads(line)[k] for k in spec.primary_key}


def item_key(spec: StreamDef) -> Callable[[Record], Hashable]:
    return lambda item: tuple(json.dumps(item[k], sort_keys=True) for k in spec.primary_key)


def read_batch(folder: Path, spec: StreamDef, stats: BatchStats) -> DocumentChanges:
    return read_documents(folder, spec, stats, document=clean(spec), key=item_key(spec), deleted=key_fields(spec))


class DynamoPublisher:
    system = "dynamodb"

    def __init__(self, endpoint: str, client: Any) -> None:
        self.endpoint = endpoint
        self.client = client
        self.region = region()
        self.where = f"DynamoDB at {endpoint} ({self.region})"

    def read(self, folder: Path, spec: StreamDef, stats: BatchStats) -> DocumentChanges:
        return read_batch(folder, spec, stats)

    def table_name(self, spec: StreamDef) -> str:
        return spec.native_name

    def published(self) -> dict[tuple[str, str], str]:
        def read() -> dict[tuple[str, str], str]:
            if not self._exists(PUBLISH_LOG):
                return {}
            return {(item["stream"]["S"], item["batch"]["S"]): item["company"]["S"] for item in self._scan(PUBLISH_LOG)}

        return self.guard("reading the publish log", read)

    def drop(self, specs: Sequence[StreamDef]) -> None:
        def drop() -> None:
            for table in [*(spec.native_name for spec in specs), PUBLISH_LOG]:
                if self._exists(table):
                    self.client.delete_table(TableName=table)
                    self.client.get_waiter("table_not_exists").wait(TableName=table, WaiterConfig={"Delay": 1})

        self.guard("deleting the company's tables", drop)

    def ensure_tables(self, specs: Sequence[StreamDef]) -> None:
        def create() -> None:
            for spec in specs:
                self._ensure(spec.native_name, [(spec.primary_key[0], "HASH")], stream=True)
            self._ensure(PUBLISH_LOG, list(LOG_KEYS), stream=False)

        self.guard("creating the tables", create)

    def _ensure(self, table: str, keys: list[tuple[str, str]], *, stream: bool) -> None:
        if self._exists(table):
            self._check(table, keys, stream=stream)
            return
        images = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}}
        self.client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind in keys],
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": KEY_TYPE} for name, _ in keys],
            BillingMode="PAY_PER_REQUEST",
            **(images if stream else {}),
        )
        self.client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})

    def _check(self, table: str, keys: list[tuple[str, str]], *, stream: bool) -> None:
        """A table made by something else must have the company's key and a stream the loader can read."""
        described = self.client.describe_table(TableName=table)["Table"]
        found = [(k["AttributeName"], k["KeyType"]) for k in described["KeySchema"]]
        view = described.get("StreamSpecification", {}).get("StreamViewType", "")
        if found != keys or (stream and view not in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")):
            raise ConfigError(
                f"{self.where}: table {table} exists with key {found} and stream {view or 'none'}; "
                f"the company's has key {keys} and a stream of new images",
                "publish with --replace to delete it and publish every batch again, or use another endpoint or account",
            )

    def apply(self, batch: str, changes: Sequence[DocumentChanges], company: str) -> None:
        def apply() -> None:
            for change in changes:
                table = change.spec.native_name
                self._write(table, [{"PutRequest": {"Item": item}} for item in change.upserts])
                self._write(table, [{"DeleteRequest": {"Key": key}} for key in change.deletes])
            entries = [self._log_item(batch, change, company) for change in changes]
            self._write(PUBLISH_LOG, [{"PutRequest": {"Item": entry}} for entry in entries])

        self.guard(f"publishing batch {batch}", apply)

    @staticmethod
    def _log_item(batch: str, change: DocumentChanges, company: str) -> Record:
        return {
            "stream": {"S": change.spec.stream},
            "batch": {"S": batch},
            "company": {"S": company},
            "upserted": {"N": str(len(change.upserts))},
            "deletes": {"N": str(len(change.deletes))},
        }

    def _write(self, table: str, requests: list[Record]) -> None:
        for start in range(0, len(requests), WRITES_PER_CALL):
            pending = {table: requests[start : start + WRITES_PER_CALL]}
            for attempt in range(ATTEMPTS):
                pending = self.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not pending:
                    break
                time.sleep(min(0.05 * 2**attempt, 2.0))  # throttled: back off, then send the rest again
            if pending:
                raise SourceError(f"{self.where}: table {table} kept refusing writes (throttled)", "publish again")

    def count(self, spec: StreamDef) -> int:
        def count() -> int:
            pages = self.client.get_paginator("scan").paginate(TableName=spec.native_name, Select="COUNT")
            return sum(page["Count"] for page in pages)

        return self.guard(f"counting {spec.native_name}", count)

    def _exists(self, table: str) -> bool:
        try:
            self.client.describe_table(TableName=table)
            return True
        except self.client.exceptions.ResourceNotFoundException:
            return False

    def _scan(self, table: str) -> list[Record]:
        return [item for page in self.client.get_paginator("scan").paginate(TableName=table) for item in page["Items"]]

    def loader_source(self) -> dict[str, Any]:
        streams = [
            {
                "name": spec.stream,
                "table": spec.native_name,
                "frequency": spec.frequency,
                "mode": "merge",
                "primary_key": list(spec.primary_key),
            }
            for spec in SYSTEMS["dynamodb"].streams
        ]
        return {
            "source": "dynamodb",
            "type": "dynamodb",
            "description": f"The synthetic company's DynamoDB tables, published into {self.endpoint}.",
            "frequency": "real-time",
            "options": {"region": self.region, "endpoint_url": self.endpoint},
            "streams": streams,
        }

    def close(self) -> None:
        self.client.close()

    def guard(self, doing: str, work: Callable[[], T]) -> T:
        """Run `work`; a refusal of the endpoint's becomes cause + fix, without the keys."""
        return guarded(work, lambda exc: connection_error(self.endpoint, exc, doing))


def connection_error(endpoint: str, exc: BaseException, doing: str = "connecting") -> SourceError:
    """boto3's failure as cause + fix. botocore never puts the secret key in a message."""
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    cause = f"DynamoDB at {endpoint}: {doing} failed: {text}"
    if isinstance(exc, NoCredentialsError):
        return SourceError(cause, "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) for that endpoint")
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("UnrecognizedClientException", "InvalidSignatureException", "AccessDeniedException"):
            fix = "check the AWS credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and the region (AWS_REGION)"
            return SourceError(cause, fix)
        return SourceError(cause, "check that the credentials may create, write and delete DynamoDB tables there")
    if isinstance(exc, EndpointConnectionError) or "connect" in text.lower():
        return SourceError(cause, f"check that the DynamoDB endpoint runs at {endpoint}, or correct --dynamodb")
    return SourceError(cause, "check --dynamodb, the AWS credentials and the region")


def connect(endpoint: str) -> DynamoPublisher:
    """A client of the endpoint that has answered once (ListTables)."""
    import boto3
    from botocore.config import Config

    endpoint = endpoint.strip()
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--dynamodb {endpoint!r} is not an endpoint URL",
            "use --dynamodb http://HOST:PORT (moto's server) or https://dynamodb.REGION.amazonaws.com",
        )
    config = Config(connect_timeout=10, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
    client = boto3.client("dynamodb", region_name=region(), endpoint_url=endpoint, config=config)
    try:
        client.list_tables(Limit=1)
        return DynamoPublisher(endpoint, client)
    except Exception as exc:
        failure = connection_error(endpoint, exc)
    client.close()
    raise failure
