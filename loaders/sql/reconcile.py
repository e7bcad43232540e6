"""Delete detection by key reconciliation: keys bronze holds that the source no longer has.

The source's keys are read in full (key columns only) and anti-joined with the keys live in bronze:
a key is live when its latest row is not a delete (merge tables hold one row per key, tombstones
included; append tables every version). The result goes back to the pipeline as rows with
`_op = 'delete'` (keys set, other columns NULL), which merge turns into tombstones and append keeps
as delete markers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from lakehouse.core.storage import LakehouseRoot
from loaders.core.bronze import RESERVED_NAMES
from loaders.core.delta import arrow_schema, open_table, read_table


@dataclass(frozen=True)
class BronzeKeys:
    """Where a stream's bronze table lives; reads its live keys."""

    root: LakehouseRoot
    source: str
    stream: str

    def read(self, keys: Sequence[str], *, append: bool) -> tuple[pa.Table, pa.Schema | None]:
        uri = self.root.bronze_uri(self.source, self.stream)
        options = self.root.storage_options()
        table = open_table(uri, options)
        if table is None:
            return pa.table({key: pa.array([], pa.string()) for key in keys}), None
        schema = pa.schema([f for f in arrow_schema(table) if f.name not in RESERVED_NAMES])
        return read_table(uri, options, _live_keys_sql(keys, append=append)), schema


def _live_keys_sql(keys: Sequence[str], *, append: bool) -> str:
    columns = ", ".join(_quoted(key) for key in keys)
    if not append:  # one row per key: live unless it is a tombstone
        return f"select {columns} from t where _op is null or _op <> 'delete'"
    latest = (
        f"select {columns}, _op, row_number() over (partition by {columns} "
        "order by _loaded_at desc, _load_id desc) as _rank from t"
    )
    return f"select {columns} from ({latest}) where _rank = 1 and (_op is null or _op <> 'delete')"


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def missing_keys(bronze: pa.Table, source: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Bronze's keys that the source does not have (source key types cast to bronze's)."""
    bronze = _joinable(bronze.select(list(keys)))
    if bronze.num_rows == 0:
        return bronze
    source = source.select(list(keys)).cast(bronze.schema)
    return bronze.join(source, keys=list(keys), join_type="left anti")


def _joinable(table: pa.Table) -> pa.Table:
    """delta-rs reads text as string_view, which Arrow's hash join does not take."""
    views = {pa.string_view(): pa.string(), pa.binary_view(): pa.binary()}
    return table.cast(pa.schema([f.with_type(views.get(f.type, f.type)) for f in table.schema]))


def delete_rows(gone: pa.Table, schema: pa.Schema | None) -> pa.Table:
    """Delete markers: the bronze columns, keys filled, everything else NULL, `_op = 'delete'`."""
    columns: dict[str, pa.Array] = {}
    fields = list(schema) if schema is not None else [gone.schema.field(name) for name in gone.column_names]
    for field in fields:
        if field.name in gone.column_names:
            columns[field.name] = gone[field.name].combine_chunks().cast(field.type)
        else:
            columns[field.name] = pa.nulls(gone.num_rows, field.type)
    columns["_op"] = pa.array(["delete"] * gone.num_rows, pa.string())
    return pa.table(columns)
