"""Schema policy on Arrow batches: evolve, rescue, freeze; type changes; nested fields; removed columns."""

from __future__ import annotations

import json

import pyarrow as pa

from loaders.core.bronze import RESERVED_NAMES
from loaders.core.changes import apply_soft_deletes, latest_per_key, split_invalid, without_deletes
from loaders.core.schema_policy import SchemaPolicy, conform, extra_field_mask, tolerant_cast, widen

TABLE = pa.schema([("id", pa.int64()), ("amount", pa.int64()), ("address", pa.struct([("city", pa.string())]))])


def rescued(table: pa.Table) -> list[dict]:
    return [json.loads(v) if v else {} for v in table["_rescued_data"].to_pylist()]


def test_first_batch_defines_the_table_whatever_the_policy() -> None:
    data = pa.table({"id": [1], "note": pa.nulls(1)})
    result = conform(data, None, SchemaPolicy.FREEZE)
    assert result.data.column_names == ["id", "note"]
    assert result.data["note"].type == pa.string()  # Delta and Spark have no always-null type
    assert result.rejects == []


def test_evolve_adds_new_columns_and_nulls_removed_ones() -> None:
    data = pa.table({"id": [1, 2], "email": ["a@x", None]})
    result = conform(data, TABLE, SchemaPolicy.EVOLVE)
    assert result.data.column_names == ["id", "amount", "address", "email"]
    assert result.data["amount"].to_pylist() == [None, None]
    assert result.data["email"].to_pylist() == ["a@x", None]


def test_type_mismatch_goes_to_rescued_data_and_the_rest_still_casts() -> None:
    data = pa.table({"id": [1, 2, 3, 4], "amount": ["10", "abc", None, "12.5"]})
    for policy in (SchemaPolicy.EVOLVE, SchemaPolicy.RESCUE):
        result = conform(data, TABLE, policy)
        assert result.data["amount"].to_pylist() == [10, None, None, None]
        assert rescued(result.data) == [{}, {"amount": "abc"}, {}, {"amount": "12.5"}]
        assert result.rescued_rows == 2


def test_rescue_keeps_new_columns_out_of_the_table() -> None:
    data = pa.table({"id": [1, 2], "email": ["a@x", None]})
    result = conform(data, TABLE, SchemaPolicy.RESCUE)
    assert "email" not in result.data.column_names
    assert rescued(result.data) == [{"email": "a@x"}, {}]


def test_freeze_quarantines_rows_with_new_columns_or_misfits() -> None:
    data = pa.table({"id": [1, 2, 3], "amount": [1, 2, 3], "email": [None, "b@x", None]})
    data = data.set_column(1, "amount", pa.array(["1", "two", "3"]))
    result = conform(data, TABLE, SchemaPolicy.FREEZE)
    assert result.data["id"].to_pylist() == [1, 3]
    assert [json.loads(r.raw_payload)["id"] for r in result.rejects] == [2]
    assert "new column 'email'" in result.rejects[0].reason
    assert "does not fit" in result.rejects[0].reason


def test_new_nested_field_evolves_the_struct() -> None:
    data = pa.table({"id": [1], "address": [{"city": "Oslo", "zip": "0150"}]})
    result = conform(data, TABLE, SchemaPolicy.EVOLVE)
    assert result.data["address"].to_pylist() == [{"city": "Oslo", "zip": "0150"}]


def test_new_nested_field_is_rescued_whole_under_rescue() -> None:
    data = pa.table({"id": [1, 2], "address": [{"city": "Oslo", "zip": "0150"}, {"city": "Rome", "zip": None}]})
    result = conform(data, TABLE, SchemaPolicy.RESCUE)
    assert result.data["address"].to_pylist() == [{"city": "Oslo"}, {"city": "Rome"}]
    assert rescued(result.data) == [{"address": {"city": "Oslo", "zip": "0150"}}, {}]


def test_empty_lists_and_always_null_fields_fit_the_tables_types_under_every_policy() -> None:
    refund = pa.struct([("id", pa.string()), ("amount", pa.int64())])
    table = pa.schema([("id", pa.int64()), ("refunds", pa.list_(refund)), ("note", pa.struct([("text", pa.string())]))])
    # A day on which no order was refunded and no note was written: pyarrow infers null types.
    data = pa.table({"id": [1, 2], "refunds": [[], None], "note": [{"text": None}, None]})
    assert data.schema.field("refunds").type == pa.list_(pa.null())
    for policy in SchemaPolicy:
        result = conform(data, table, policy)
        assert result.data.schema.field("refunds").type == pa.list_(refund)
        assert result.data["refunds"].to_pylist() == [[], None]
        assert result.rescued_rows == 0 and not result.rejects


def test_existing_rescued_data_from_the_stream_is_kept() -> None:
    data = pa.table({"id": [1], "amount": ["x"], "_rescued_data": ['{"raw": 1}']})
    result = conform(data, TABLE, SchemaPolicy.EVOLVE, passthrough=RESERVED_NAMES)
    assert rescued(result.data) == [{"raw": 1, "amount": "x"}]


def test_tolerant_cast_bisects_to_the_misfits() -> None:
    values = pa.array([str(i) for i in range(1000)])
    values = pa.concat_arrays([values.slice(0, 500), pa.array(["bad"]), values.slice(500)])
    cast, misfits = tolerant_cast(values, pa.int64())
    assert misfits == [500]
    assert cast.null_count == 1 and cast[501].as_py() == 500


def test_uncastable_types_send_every_value_to_the_misfits() -> None:
    cast, misfits = tolerant_cast(pa.array([{"a": 1}, None]), pa.int64())
    assert misfits == [0] and cast.null_count == 2


def test_extra_fields_are_found_inside_lists_of_structs() -> None:
    column = pa.array([[{"a": 1, "b": None}], [{"a": 2, "b": 5}], None])
    target = pa.list_(pa.struct([("a", pa.int64())]))
    assert extra_field_mask(column, target).to_pylist() == [False, True, False]
    assert widen(target, column.type) == pa.list_(pa.struct([("a", pa.int64()), ("b", pa.int64())]))


def test_soft_delete_field_marks_rows_deleted() -> None:
    data = pa.table({"id": [1, 2, 3, 4], "is_deleted": ["true", "no", None, "1"]})
    assert apply_soft_deletes(data, "is_deleted")["_op"].to_pylist() == ["delete", None, None, "delete"]
    stamped = pa.table({"id": [1, 2], "deleted_at": pa.array([None, 1], pa.timestamp("s"))})
    assert apply_soft_deletes(stamped, "deleted_at")["_op"].to_pylist() == [None, "delete"]


def test_null_primary_keys_and_unknown_ops_are_split_out() -> None:
    data = pa.table({"id": [1, None, 3, 4], "_op": ["insert", "update", "upsert", None]})
    kept, rejects = split_invalid(data, ["id"], require_op=False)
    assert kept["id"].to_pylist() == [1, 4]
    assert ["is null" in r.reason for r in rejects] == [True, False]
    assert "`_op` must be one of" in rejects[1].reason
    _, strict = split_invalid(data, ["id"], require_op=True)
    assert len(strict) == 3  # a CDC row must say what it is


def test_merge_batches_keep_each_keys_last_change() -> None:
    data = pa.table({"id": [1, 2, 1, 3, 2], "v": ["a", "b", "c", "d", "e"], "_op": [None, None, None, "delete", None]})
    assert sorted(latest_per_key(data, ["id"]).to_pylist(), key=lambda r: r["id"]) == [
        {"id": 1, "v": "c", "_op": None},
        {"id": 2, "v": "e", "_op": None},
        {"id": 3, "v": "d", "_op": "delete"},
    ]
    assert without_deletes(data)["id"].to_pylist() == [1, 2, 1, 2]
