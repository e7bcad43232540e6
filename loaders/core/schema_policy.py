"""Schema policy: fit each batch to the bronze table's schema without crashing and without losing a value.

Per stream, `schema_policy:` in the source file:

- **evolve** (default): new columns and new nested fields are added to the table.
- **rescue**: the table's columns never change; values of new columns go to `_rescued_data`.
- **freeze**: the table's columns never change; rows carrying new columns (or new nested fields, or
  values that do not fit their column's type) are quarantined with the reason.

Under evolve and rescue, a value whose type does not fit its column (a string in an integer column)
is set to null in the column and kept, as it arrived, in `_rescued_data`: a JSON object of
field → original value. A column missing from a batch is null in its rows.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from loaders.core.quarantine import Rejected, json_default, row_payload

RESCUED_COLUMN = "_rescued_data"
Column = pa.Array | pa.ChunkedArray  # a batch's column, combined into one array only where a row-level look needs it
_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)


class SchemaPolicy(StrEnum):
    EVOLVE = "evolve"
    FREEZE = "freeze"
    RESCUE = "rescue"


@dataclass
class Conformed:
    data: pa.Table  # the rows to load, in the table's column order (new columns last)
    rejects: list[Rejected] = field(default_factory=list)
    rescued_rows: int = 0  # loaded rows with something in `_rescued_data`


def conform(
    data: pa.Table, target: pa.Schema | None, policy: SchemaPolicy, *, passthrough: Collection[str] = ()
) -> Conformed:
    """Fit `data` to `target` (the table's data columns; None before the table exists).

    Columns named in `passthrough` (the bronze metadata columns a stream may set) are left alone.
    """
    if target is None:  # the first batch defines the table
        target, policy = pa.schema([]), SchemaPolicy.EVOLVE
    outcome = _Outcome(data)
    columns: dict[str, Column] = {}
    for name in data.column_names:
        if name in passthrough:
            continue
        index = target.get_field_index(name)
        # Kept in its chunks: a column that already fits is not copied into one array (a SQL chunk
        # arrives as several record batches); only a column that needs a row-level look is combined.
        raw = data[name]
        if index >= 0:
            raw = _typed_like_target(raw, target.field(index).type)
        column = writable(raw)
        if column is None:
            continue
        if index < 0:
            kept = _new_column(name, column, policy, outcome)
        else:
            kept = _known_column(name, column, target.field(index).type, policy, outcome)
        if kept is not None:
            columns[name] = kept
    ordered = [f.name for f in target] + [name for name in columns if target.get_field_index(name) < 0]
    # Start from the batch's row count, so a batch whose every column went to `_rescued_data` keeps its rows.
    table = data.select([])
    for name in ordered:
        column = columns[name] if name in columns else pa.nulls(data.num_rows, target.field(name).type)
        table = table.append_column(name, column)
    for name in data.column_names:
        if name in passthrough and name != RESCUED_COLUMN:
            table = table.append_column(name, data[name])
    return outcome.finish(table)


def one_array(column: Column) -> pa.Array:
    """The column as one array; its only chunk as it is (`combine_chunks` copies even a single chunk)."""
    if isinstance(column, pa.Array):
        return column
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _new_column(name: str, column: Column, policy: SchemaPolicy, outcome: _Outcome) -> Column | None:
    if policy is SchemaPolicy.EVOLVE:
        return column
    column = one_array(column)
    present = _valid_indices(column)
    if policy is SchemaPolicy.RESCUE:
        outcome.rescue(name, column, present)
    else:
        outcome.reject(present, f"new column {name!r} is not in the table (schema_policy: freeze)")
    return None


def _known_column(
    name: str, column: Column, target_type: pa.DataType, policy: SchemaPolicy, outcome: _Outcome
) -> Column:
    if policy is SchemaPolicy.EVOLVE:
        target_type = widen(target_type, column.type)
    if same_type(column.type, target_type):
        return column if column.type == target_type else column.cast(target_type)
    column = one_array(column)
    extra = [] if policy is SchemaPolicy.EVOLVE else _mask_indices(extra_field_mask(column, target_type))
    cast, misfits = tolerant_cast(column, target_type)
    if policy is SchemaPolicy.FREEZE:
        outcome.reject(misfits, f"column {name!r}: value does not fit the table's type {target_type} (freeze)")
        outcome.reject(extra, f"column {name!r}: new nested field, not in the table (schema_policy: freeze)")
    else:
        outcome.rescue(name, column, sorted(set(misfits) | set(extra)))
    return cast


class _Outcome:
    """What conforming decided per row: values to rescue, rows to reject (with reasons)."""

    def __init__(self, data: pa.Table) -> None:
        self.data = data
        self.rescued: dict[int, dict[str, Any]] = {}
        self.reasons: dict[int, list[str]] = {}

    def rescue(self, name: str, column: pa.Array, indices: list[int]) -> None:
        if not indices:
            return
        values = column.take(pa.array(indices, pa.int64())).to_pylist()
        for index, value in zip(indices, values, strict=True):
            self.rescued.setdefault(index, {})[name] = value

    def reject(self, indices: list[int], reason: str) -> None:
        for index in indices:
            self.reasons.setdefault(index, []).append(reason)

    def finish(self, table: pa.Table) -> Conformed:
        rescued = self._rescued_column()
        if rescued is not None:
            table = table.append_column(RESCUED_COLUMN, rescued)
        elif RESCUED_COLUMN in self.data.column_names:
            table = table.append_column(RESCUED_COLUMN, self.data[RESCUED_COLUMN])
        if not self.reasons:
            return Conformed(table, [], _rows_with_rescued_data(table))
        rejected = sorted(self.reasons)
        originals = self.data.take(pa.array(rejected, pa.int64())).to_pylist()
        rejects = [
            Rejected("; ".join(self.reasons[i]), row_payload(row)) for i, row in zip(rejected, originals, strict=True)
        ]
        keep = pc.invert(pc.is_in(pa.array(range(table.num_rows), pa.int64()), pa.array(rejected, pa.int64())))
        kept = table.filter(keep)
        return Conformed(kept, rejects, _rows_with_rescued_data(kept))

    def _rescued_column(self) -> pa.Array | None:
        if not self.rescued:
            return None
        if RESCUED_COLUMN in self.data.column_names:
            values = self.data[RESCUED_COLUMN].cast(pa.string()).to_pylist()
        else:
            values = [None] * self.data.num_rows
        for index, fields in self.rescued.items():
            values[index] = json.dumps({**_as_object(values[index]), **fields}, default=json_default)
        return pa.array(values, pa.string())


def _rows_with_rescued_data(table: pa.Table) -> int:
    """Rescued here or already by the source (a file reader fitting odd lines): both count."""
    if RESCUED_COLUMN not in table.column_names:
        return 0
    return table.num_rows - table[RESCUED_COLUMN].null_count


def _as_object(text: str | None) -> dict[str, Any]:
    """What the stream already put in `_rescued_data`, kept when we add to it."""
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {"_rescued_data": text}
    return value if isinstance(value, dict) else {"_rescued_data": value}


def tolerant_cast(column: pa.Array, target: pa.DataType) -> tuple[pa.Array, list[int]]:
    """Cast what fits; values that do not fit become null. Returns the array and the misfits' indices.

    Bisects on failure, so a batch with k misfits costs O(k log n) casts rather than one per row.
    """
    try:
        return column.cast(target), []
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError):  # the types do not convert at all
        return pa.nulls(len(column), target), _valid_indices(column)
    except pa.ArrowInvalid:
        pass
    if len(column) == 1:
        return pa.nulls(1, target), [0]
    middle = len(column) // 2
    left, left_bad = tolerant_cast(column.slice(0, middle), target)
    right, right_bad = tolerant_cast(column.slice(middle), target)
    return pa.concat_arrays([left, right]), left_bad + [middle + i for i in right_bad]


def widen(target: pa.DataType, incoming: pa.DataType) -> pa.DataType:
    """`target` plus the nested fields `incoming` adds (evolve): struct fields, also inside lists."""
    if pa.types.is_struct(target) and pa.types.is_struct(incoming):
        fields = []
        for child in target:
            index = incoming.get_field_index(child.name)
            fields.append(child.with_type(widen(child.type, incoming.field(index).type)) if index >= 0 else child)
        known = {child.name for child in target}
        for child in incoming:
            wanted = writable_type(child.type) if child.name not in known else None
            if wanted is not None:
                fields.append(child.with_type(wanted))
        return pa.struct(fields)
    if _is_list(target) and _is_list(incoming):
        value_type = widen(target.value_type, incoming.value_type)
        return pa.large_list(value_type) if pa.types.is_large_list(target) else pa.list_(value_type)
    return target


def extra_field_mask(column: pa.Array, target: pa.DataType) -> pa.Array | None:
    """Rows whose value carries nested fields `target` lacks (a cast would silently drop them)."""
    if pa.types.is_struct(column.type) and pa.types.is_struct(target):
        mask = None
        for index, child in enumerate(column.type):
            values = pc.struct_field(column, [index])
            known = target.get_field_index(child.name)
            sub = pc.is_valid(values) if known < 0 else extra_field_mask(values, target.field(known).type)
            if sub is not None:
                mask = sub if mask is None else pc.or_(mask, sub)
        return mask
    if _is_list(column.type) and _is_list(target):
        sub = extra_field_mask(pc.list_flatten(column), target.value_type)
        if sub is None:
            return None
        parents = pc.list_parent_indices(column).filter(sub)
        return pc.is_in(pa.array(range(len(column)), pa.int64()), parents.cast(pa.int64()))
    return None


def same_type(left: pa.DataType, right: pa.DataType) -> bool:
    """Equal, or the same logical type in another Arrow layout (string / large_string / string_view)."""
    if left == right:
        return True
    return (_is_string(left) and _is_string(right)) or (_is_binary(left) and _is_binary(right))


def _typed_like_target(column: Column, target: pa.DataType) -> Column:
    """The column with its null-typed parts (an empty list, a field that is always null in this
    batch) given the type the table has there, so they fit it instead of being rescued."""
    wanted = typed_like(column.type, target)
    if wanted == column.type:
        return column
    try:
        return column.cast(wanted)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return column


def typed_like(kind: pa.DataType, target: pa.DataType) -> pa.DataType:
    """`kind` with each null-typed part replaced by the type `target` has at the same place."""
    if pa.types.is_null(kind):
        return target
    if pa.types.is_struct(kind) and pa.types.is_struct(target):
        fields = []
        for child in kind:
            index = target.get_field_index(child.name)
            fields.append(child.with_type(typed_like(child.type, target.field(index).type)) if index >= 0 else child)
        return pa.struct(fields)
    if _is_list(kind) and _is_list(target):
        value_type = typed_like(kind.value_type, target.value_type)
        return pa.large_list(value_type) if pa.types.is_large_list(kind) else pa.list_(value_type)
    return kind


def writable(column: Column) -> Column | None:
    """The column as Delta can store it; None when it can hold no value at all (an empty struct).

    Delta and Spark have no "always null" type (written as strings) and Parquet has no empty
    struct: an `{}` object holds no value, so empty structs are left out (a later batch in which
    the object has fields adds them, under evolve).
    """
    wanted = writable_type(column.type)
    if wanted is None:
        return None
    return column if wanted == column.type else column.cast(wanted)


def writable_type(kind: pa.DataType) -> pa.DataType | None:
    if pa.types.is_null(kind):
        return pa.string()
    if pa.types.is_struct(kind):
        children = [(child, writable_type(child.type)) for child in kind]
        fields = [child.with_type(wanted) for child, wanted in children if wanted is not None]
        return pa.struct(fields) if fields else None
    if _is_list(kind):
        value_type = writable_type(kind.value_type)
        if value_type is None:
            return None
        return pa.large_list(value_type) if pa.types.is_large_list(kind) else pa.list_(value_type)
    return kind


def _is_list(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind)


def _is_string(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)


def _is_binary(kind: pa.DataType) -> bool:
    return pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_binary_view(kind)


def _valid_indices(column: pa.Array) -> list[int]:
    return pc.indices_nonzero(pc.is_valid(column)).to_pylist()


def _mask_indices(mask: pa.Array | None) -> list[int]:
    return [] if mask is None else pc.indices_nonzero(pc.fill_null(mask, False)).to_pylist()
