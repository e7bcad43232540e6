"""Change semantics on Arrow batches: `_op`, soft deletes, the declared primary key, upsert order.

`_op` is one of insert, update, delete. A CDC stream sets it on every row; a stream with a
`soft_delete_field` gets `_op = 'delete'` on the rows that field marks. How `_op` is applied
depends on the sync mode: merge and cdc turn the key's bronze row into a tombstone (`_op = 'delete'`,
never a physical delete), append keeps it as a row.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from loaders.core.quarantine import Rejected, row_payload

OP_COLUMN = "_op"
OPS = ("insert", "update", "delete")
_TRUTHY = ["true", "t", "yes", "y", "1"]


def locate(schema: pa.Schema, name: str) -> tuple[str, ...] | None:
    """Where a declared field (cursor, key, soft-delete flag) lives in the data.

    A top-level column; a dotted path through structs (`segments.date`); or, for sources that wrap
    records (DynamoDB's `Item`), the shallowest nested field of that name. None when there is none.
    """
    if name in schema.names:
        return (name,)
    parts = tuple(name.split("."))
    if len(parts) > 1 and _has_path(schema, parts):
        return parts
    found = sorted((path for path in _nested_paths(schema) if path[-1] == name), key=len)
    return found[0] if found else None


def _has_path(schema: pa.Schema, parts: tuple[str, ...]) -> bool:
    if schema.get_field_index(parts[0]) < 0:
        return False
    kind = schema.field(parts[0]).type
    for part in parts[1:]:
        if not pa.types.is_struct(kind) or kind.get_field_index(part) < 0:
            return False
        kind = kind.field(part).type
    return True


def _nested_paths(schema: pa.Schema) -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []
    pending = [((f.name,), f.type) for f in schema]
    while pending:
        path, kind = pending.pop()
        if pa.types.is_struct(kind):
            for child in kind:
                paths.append((*path, child.name))
                pending.append(((*path, child.name), child.type))
    return paths


def values_at(data: pa.Table, path: tuple[str, ...]) -> pa.ChunkedArray:
    column = data[path[0]]
    for part in path[1:]:
        column = pc.struct_field(column, part)
    return column


def apply_soft_deletes(data: pa.Table, field: str) -> pa.Table:
    """Mark the rows `field` flags as deleted: true booleans, non-zero numbers, "true"/"yes"/"1", or any date."""
    path = locate(data.schema, field)
    if data.num_rows == 0 or path is None:
        return data
    deleted = pc.fill_null(_flagged(values_at(data, path)), False)
    current = (
        data[OP_COLUMN].cast(pa.string()) if OP_COLUMN in data.column_names else pa.nulls(data.num_rows, pa.string())
    )
    ops = pc.if_else(deleted, pa.scalar("delete"), current)
    if OP_COLUMN in data.column_names:
        return data.set_column(data.schema.get_field_index(OP_COLUMN), OP_COLUMN, ops)
    return data.append_column(OP_COLUMN, ops)


def _flagged(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_boolean(kind):
        return column
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return pc.not_equal(column, 0)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.is_in(pc.utf8_lower(pc.utf8_trim_whitespace(column)), pa.array(_TRUTHY))
    return pc.is_valid(column)  # deleted_at-style: a timestamp or date means deleted


def split_invalid(data: pa.Table, primary_key: Sequence[str], *, require_op: bool) -> tuple[pa.Table, list[Rejected]]:
    """Rows that violate the declared schema (null primary key, unknown `_op`), moved out with the reason."""
    if data.num_rows == 0:
        return data, []
    reasons: list[tuple[pa.Array, str]] = []
    for key in primary_key:
        path = locate(data.schema, key)
        if path is not None:
            reasons.append((pc.is_null(values_at(data, path)), f"primary key column {key!r} is null"))
        else:
            reasons.append((pa.array([True] * data.num_rows), f"primary key column {key!r} is missing"))
    if OP_COLUMN in data.column_names or require_op:
        ops = data[OP_COLUMN] if OP_COLUMN in data.column_names else pa.nulls(data.num_rows, pa.string())
        known = pc.is_in(ops.cast(pa.string()), pa.array(OPS))
        bad = pc.invert(known) if require_op else pc.and_(pc.is_valid(ops), pc.invert(known))
        reasons.append((pc.fill_null(bad, True), f"`_op` must be one of {', '.join(OPS)}"))
    return _move_out(data, reasons)


def _move_out(data: pa.Table, reasons: list[tuple[pa.Array, str]]) -> tuple[pa.Table, list[Rejected]]:
    if not reasons:
        return data, []
    bad = reasons[0][0]
    for mask, _ in reasons[1:]:
        bad = pc.or_(bad, mask)
    if not pc.any(bad).as_py():
        return data, []
    rows = data.filter(bad)
    masks = [(pa.table({"m": mask}).filter(bad)["m"].to_pylist(), reason) for mask, reason in reasons]
    rejects = []
    for index, row in enumerate(rows.to_pylist()):
        why = "; ".join(reason for flags, reason in masks if flags[index])
        rejects.append(Rejected(why, row_payload(row)))
    return data.filter(pc.invert(bad)), rejects


def latest_per_key(data: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Keep each key's last row in source order: a merge applies one change per key per batch."""
    if data.num_rows < 2:
        return data
    position = "__lakehouse_position"
    numbered = data.append_column(position, pa.array(range(data.num_rows), pa.int64()))
    last = numbered.group_by(list(keys), use_threads=False).aggregate([(position, "max")])[f"{position}_max"]
    if len(last) == data.num_rows:
        return data
    return data.take(pc.take(last, pc.sort_indices(last)))  # in source order


def without_deletes(data: pa.Table) -> pa.Table:
    """Rows to write into an empty table: a delete there deletes nothing."""
    if OP_COLUMN not in data.column_names:
        return data
    return data.filter(pc.fill_null(pc.not_equal(data[OP_COLUMN], "delete"), True))
