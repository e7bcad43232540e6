"""BSON to Arrow (the MongoDB loader's type mapping) and change-stream events to rows, without a server."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

import pyarrow as pa
from bson import Binary, Decimal128, Int64, ObjectId

from loaders.mongodb.arrow import documents_to_arrow, event_to_document

OID = ObjectId("65a1b2c3d4e5f60718293a4b")
WHEN = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)


def test_bson_types_map_to_faithful_arrow_types() -> None:
    table = documents_to_arrow(
        [
            {
                "_id": OID,
                "price": Decimal128("12.50"),
                "at": WHEN,
                "count": Int64(7),
                "device": {"id": "d1", "seen": WHEN},
                "tags": ["a", "b"],
                "raw": Binary(b"\x00\x01"),
                "uid": Binary(uuid.UUID(int=1).bytes, 4),
            },
            {"_id": ObjectId(), "price": Decimal128("3.125"), "at": None, "count": Int64(8), "tags": []},
        ]
    )
    schema = table.schema
    assert schema.field("_id").type == pa.string() and table.column("_id")[0].as_py() == str(OID)
    assert schema.field("price").type == pa.decimal128(34, 3)
    assert table.column("price").to_pylist() == [decimal.Decimal("12.500"), decimal.Decimal("3.125")]
    assert schema.field("at").type == pa.timestamp("us", tz="UTC") and table.column("at")[0].as_py() == WHEN
    assert schema.field("count").type == pa.int64()
    assert pa.types.is_struct(schema.field("device").type)
    assert schema.field("tags").type == pa.list_(pa.string())
    assert schema.field("raw").type == pa.binary()
    assert table.column("uid")[0].as_py() == str(uuid.UUID(int=1))


def test_decimals_that_do_not_fit_and_mixed_fields_keep_their_exact_text() -> None:
    table = documents_to_arrow([{"d": Decimal128("NaN"), "v": 1}, {"d": Decimal128("1.5"), "v": "one"}])
    assert table.column("d").to_pylist() == ["NaN", "1.5"]
    assert table.column("v").to_pylist() == ["1", '"one"']  # Extended JSON text: nothing lost


def test_change_events_become_rows_with_their_operation() -> None:
    insert = {"operationType": "insert", "fullDocument": {"_id": OID, "n": 1}, "documentKey": {"_id": OID}}
    replace = {"operationType": "replace", "fullDocument": {"_id": OID, "n": 2}, "documentKey": {"_id": OID}}
    delete = {"operationType": "delete", "documentKey": {"_id": OID}}
    gone = {"operationType": "update", "fullDocument": None, "documentKey": {"_id": OID}}
    rows = [event_to_document(e) for e in (insert, replace, delete, gone, {"operationType": "drop"})]
    assert rows[3] is None and rows[4] is None
    table = documents_to_arrow([r for r in rows if r is not None])
    assert table.to_pylist() == [
        {"_id": str(OID), "n": 1, "_op": "insert"},
        {"_id": str(OID), "n": 2, "_op": "update"},
        {"_id": str(OID), "n": None, "_op": "delete"},
    ]
