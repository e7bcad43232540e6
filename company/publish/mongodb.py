"""MongoDB: the analytics database's collections (`company_analytics.user_sessions`, `product_reviews`),
through pymongo, the driver the MongoDB loader reads them back with.

The generator's files are mongoexport's relaxed Extended JSON, decoded into BSON as mongoimport would
(`{"$oid": ...}` an ObjectId, `{"$date": ...}` a date). A batch is one ordered bulk write per
collection: every document replaced whole by `_id` (inserted when new), then the day's deleted
`_id`s removed; then its lines in the publish log collection (`_lakehouse_publish_log`). MongoDB has
no transaction across a standalone server's writes, so a run cut short between the two applies the
batch again next time, which changes nothing (replacing and deleting by `_id` are idempotent).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlencode

from company.manifest import BatchStats
from company.publish.base import PUBLISH_LOG, guarded
from company.publish.changes import DocumentChanges, read_documents
from company.publish.target import Target, password_variable
from company.spec import Record, StreamDef
from company.systems import SYSTEMS
from lakehouse.core.errors import LakehouseError, SourceError

T = TypeVar("T")
TIMEOUT_MS = 10_000


def decode(line: str) -> Record | None:
    """A mongoexport line as BSON types; None for a dirty line (cut off, or no `_id`)."""
    from bson import json_util

    try:
        document = json_util.loads(line)
    except ValueError:
        return None
    return document if isinstance(document, dict) and "_id" in document else None


def clean(spec: StreamDef) -> Callable[[str], Record | None]:
    """`decode`, and the update field must be a date: a dirty copy has it as text or a document."""
    from datetime import datetime

    def document(line: str) -> Record | None:
        decoded = decode(line)
        if decoded is None or (spec.cursor_field and not isinstance(decoded.get(spec.cursor_field), datetime)):
            return None
        return decoded

    return document


def deleted_id(line: str) -> Record:
    from bson import json_util

    return {"_id": json_util.loads(line)["_id"]}


def document_id(document: Record) -> Hashable:
    return document["_id"]


def read_batch(folder: Path, spec: StreamDef, stats: BatchStats) -> DocumentChanges:
    return read_documents(folder, spec, stats, document=clean(spec), key=document_id, deleted=deleted_id)


class MongoPublisher:
    system = "mongodb"

    def __init__(self, target: Target, client: Any) -> None:
        self.target = target
        self.client = client
        self.where = f"MongoDB at {target.display()}"

    @property
    def database(self) -> Any:
        return self.client[self.target.database]

    def read(self, folder: Path, spec: StreamDef, stats: BatchStats) -> DocumentChanges:
        return read_batch(folder, spec, stats)

    def collection(self, spec: StreamDef) -> str:
        return spec.native_name.split(".")[-1]

    def table_name(self, spec: StreamDef) -> str:
        return f"{self.target.database}.{self.collection(spec)}"

    def published(self) -> dict[tuple[str, str], str]:
        def read() -> dict[tuple[str, str], str]:
            entries = self.database[PUBLISH_LOG].find({}, {"stream": 1, "batch": 1, "company": 1})
            return {(e["stream"], e["batch"]): e["company"] for e in entries}

        return self.guard("reading the publish log", read)

    def drop(self, specs: Sequence[StreamDef]) -> None:
        def drop() -> None:
            for name in [*(self.collection(spec) for spec in specs), PUBLISH_LOG]:
                self.database.drop_collection(name)

        self.guard("dropping the company's collections", drop)

    def ensure_tables(self, specs: Sequence[StreamDef]) -> None:
        """Create the collections, so a stream with no document yet is an empty collection to the loader."""

        def create() -> None:
            existing = set(self.database.list_collection_names())
            for name in [*(self.collection(spec) for spec in specs), PUBLISH_LOG]:
                if name not in existing:
                    self.database.create_collection(name)

        self.guard("creating the collections", create)

    def apply(self, batch: str, changes: Sequence[DocumentChanges], company: str) -> None:
        from pymongo import DeleteOne, ReplaceOne

        def apply() -> None:
            for change in changes:
                writes: list[Any] = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in change.upserts]
                writes += [DeleteOne({"_id": d["_id"]}) for d in change.deletes]
                if writes:
                    self.database[self.collection(change.spec)].bulk_write(writes, ordered=True)
            for change in changes:
                entry = {"stream": change.spec.stream, "batch": batch, "company": company}
                entry |= {"upserted": len(change.upserts), "deletes": len(change.deletes)}
                self.database[PUBLISH_LOG].replace_one({"_id": f"{change.spec.stream}/{batch}"}, entry, upsert=True)

        self.guard(f"publishing batch {batch}", apply)

    def count(self, spec: StreamDef) -> int:
        return self.guard(
            f"counting {self.table_name(spec)}", lambda: self.database[self.collection(spec)].count_documents({})
        )

    def loader_source(self) -> dict[str, Any]:
        target = self.target
        user = f"{quote(target.user, safe='')}@" if target.user else ""
        query = f"?{urlencode(target.params)}" if target.params else ""
        options: dict[str, Any] = {"uri": f"mongodb://{user}{target.netloc}/{quote(target.database)}{query}"}
        if target.password:
            options["password"] = f"${{{password_variable('mongodb')}}}"
        options["database"] = target.database
        streams = [
            {
                "name": spec.stream,
                "collection": self.collection(spec),
                "frequency": spec.frequency,
                "mode": "merge",
                "primary_key": list(spec.primary_key),
                "cursor_field": spec.cursor_field,
            }
            for spec in SYSTEMS["mongodb"].streams
        ]
        return {
            "source": "mongodb",
            "type": "mongodb",
            "description": f"The synthetic company's MongoDB collections, published into {target.display()}.",
            "frequency": "real-time",
            "options": options,
            "streams": streams,
        }

    def close(self) -> None:
        self.client.close()

    def guard(self, doing: str, work: Callable[[], T]) -> T:
        """Run `work`; a server's refusal becomes cause + fix, without the password."""
        return guarded(work, lambda exc: self._failure(exc, doing))

    def _failure(self, exc: Exception, doing: str) -> LakehouseError:
        from pymongo.errors import OperationFailure

        if isinstance(exc, OperationFailure) and exc.code in (13, 18):  # Unauthorized, AuthenticationFailed
            return self.target.connection_error(RuntimeError(short_message(exc)))
        message = " ".join(self.target.redactor().scrub(short_message(exc)).split())
        return SourceError(
            f"{self.where}: {doing} failed: {message}",
            "check that the user may create, write and drop collections in that database; if they were made "
            "by something else, publish with --replace or into another database",
        )


def client_uri(target: Target) -> str:
    credentials = ""
    if target.user:
        secret = f":{quote(target.password, safe='')}" if target.password else ""
        credentials = f"{quote(target.user, safe='')}{secret}@"
    query = f"?{urlencode(target.params)}" if target.params else ""
    return f"mongodb://{credentials}{target.netloc}/{quote(target.database)}{query}"


def connect(target: Target) -> MongoPublisher:
    """Connected and allowed to read the database (authenticated, where the server asks for it)."""
    import pymongo

    client = None
    try:
        client = pymongo.MongoClient(
            client_uri(target),
            serverSelectionTimeoutMS=TIMEOUT_MS,
            connectTimeoutMS=TIMEOUT_MS,
            appname="lakehouse-publish",
        )
        client[target.database].list_collection_names()
        return MongoPublisher(target, client)
    except Exception as exc:
        failure = target.connection_error(RuntimeError(short_message(exc)))
    if client is not None:
        client.close()
    raise failure


def short_message(exc: BaseException) -> str:
    """pymongo's message without the topology dump and the raw server reply it appends."""
    text = str(exc)
    for tail in (", Timeout:", ", full error:"):
        text = text.split(tail)[0]
    return text
