"""Delete detection by key reconciliation: keys bronze holds that the source no longer has.

The source's keys are read in full (key columns only) and anti-joined with the keys live in bronze:
a key is live when its latest row is not a delete (merge tables hold one row per key, tombstones
included; append tables every version). The result goes back to the pipeline as rows with
`_op = 'delete'` (keys set, other columns NULL), which merge turns into tombstones and append keeps
as delete markers. A reconciliation that would delete more than `max_delete_share` of bronze's live
keys is refused: an empty read of the source must not wipe bronze.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pyarrow as pa

from lakehouse.core.errors import SourceError
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


def missing_keys(bronze: pa.Table, source: Iterable[pa.Table], keys: Sequence[str]) -> pa.Table:
    """Bronze's keys that the source does not have, the source's keys streamed batch by batch.

    Each source batch (cast to bronze's key types) is anti-joined out of what is still unmatched, so
    memory is bronze's live keys (Arrow, key columns only) plus one source batch, never both key sets.
    """
    remaining = _joinable(bronze.select(list(keys)))
    for batch in source:
        if remaining.num_rows == 0:
            break
        if batch.num_rows == 0:
            continue
        found = batch.select(list(keys)).cast(remaining.schema)
        remaining = remaining.join(found, keys=list(keys), join_type="left anti")
    return remaining


def check_delete_share(stream: str, gone: int, live: int, share: float) -> None:
    """Refuse a reconciliation that would mark more than `share` of bronze's live keys deleted."""
    if live == 0 or gone <= share * live:
        return
    raise SourceError(
        f"stream {stream!r}: key reconciliation would mark {gone} of {live} live keys in bronze deleted "
        f"({gone / live:.0%}), more than `max_delete_share` ({share:.0%}) allows; no delete was written "
        "(an empty or truncated read of the source's keys looks exactly like this)",
        f"check the source table and the stream's `where`; if the deletes are real, raise `max_delete_share` "
        f"for stream {stream!r} (1.0 allows any share) or reload it with `lakehouse load <source> --stream "
        f"{stream} --full-refresh`",
    )


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
