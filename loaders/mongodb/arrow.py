"""BSON documents to Arrow, faithfully, and change-stream events to rows.

| BSON | Arrow |
|---|---|
| ObjectId | string (24 hex digits) |
| Decimal128 | decimal128(34, s), s the largest scale among the batch's values of the field (*) |
| date | timestamp[us, UTC] |
| BSON Timestamp | timestamp[us, UTC] (its seconds; the increment is dropped) |
| embedded document | struct |
| array | list |
| Binary | binary (a UUID subtype: its string) |
| Int64, int, double, bool, string, null | int64, double, bool, string, null |
| regex, code, MinKey, MaxKey, DBRef | string (Extended JSON) |

(*) A field holding NaN or Infinity, a value that does not fit 34 digits at that scale, or a decimal
inside a nested document or array, is kept as the decimal's exact text (string) instead.

A top-level field whose values do not share one Arrow type within a batch (an int in one document,
a string in another) is kept as Extended JSON text for that batch, so no value is lost; the schema
policy then fits it to the table.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from bson import Binary, Code, DBRef, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp, json_util

from loaders.core.documents import documents_to_arrow as rows_to_arrow

MAX_DIGITS = 34  # Decimal128's precision


def plain(value: Any) -> Any:
    """A BSON value as a Python value pyarrow maps as the table above says (decimals as `Decimal`)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, Timestamp):
        return value.as_datetime()
    if isinstance(value, Int64):
        return int(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Binary):
        return str(value.as_uuid()) if value.subtype in (3, 4) else bytes(value)
    if isinstance(value, Regex | Code | MinKey | MaxKey | DBRef):
        return json_util.dumps(value)
    return value


def documents_to_arrow(documents: Iterable[dict[str, Any]]) -> pa.Table:
    rows = [plain(document) for document in documents]
    return rows_to_arrow(rows, max_digits=MAX_DIGITS, to_json=json_util.dumps)


OPERATIONS = {"insert": "insert", "update": "update", "replace": "update", "delete": "delete"}


def event_to_document(event: dict[str, Any]) -> dict[str, Any] | None:
    """A change-stream event as the document bronze receives, with `_op`; None for other events.

    Inserts, updates and replaces carry the full document (`fullDocument: updateLookup`); a delete
    carries only the key. An update whose document has gone since (deleted later) is skipped: its
    delete follows in the stream.
    """
    operation = OPERATIONS.get(event.get("operationType", ""))
    if operation is None:
        return None
    if operation == "delete":
        return {"_id": event["documentKey"]["_id"], "_op": "delete"}
    document = event.get("fullDocument")
    if document is None:
        return None
    return {**document, "_op": operation}
