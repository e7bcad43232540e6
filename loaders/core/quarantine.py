"""Quarantine: records a load could not take, kept with the reason and their raw payload.

One Delta table for the whole root, `<root>/bronze/_quarantine/`. A stream hands unparseable
records to the pipeline as `Rejected` items on a `BatchWithRejects`; the pipeline adds the rows that
violate the declared schema (primary key null, bad `_op`, a frozen schema) and writes them all here
before it commits the batch to bronze. The quarantine commit carries the same application transaction
as the bronze commit that follows, so a load resumed after a crash between the two does not
quarantine the same records twice. Counts reconcile per batch: read = loaded + quarantined.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

from lakehouse.core.storage import LakehouseRoot
from loaders.core.delta import Stamp, commit_once, create_table, open_table, read_table
from loaders.core.protocol import Batch

QUARANTINE_SCHEMA = pa.schema(
    [
        pa.field("load_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("stream", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_payload", pa.string()),
        pa.field("quarantined_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)


@dataclass(frozen=True)
class Rejected:
    reason: str
    raw_payload: str


@dataclass(frozen=True)
class BatchWithRejects(Batch):
    """A batch plus the records of the same stretch of the source that could not be parsed.

    The batch's cursor covers both: once it is committed, neither is read again.
    """

    rejects: tuple[Rejected, ...] = ()


def rejects_of(batch: Batch) -> tuple[Rejected, ...]:
    return batch.rejects if isinstance(batch, BatchWithRejects) else ()


def row_payload(row: dict[str, Any]) -> str:
    """A row as JSON text, for the raw payload of a row rejected after parsing."""
    return json.dumps(row, default=json_default, ensure_ascii=False)


def json_default(value: Any) -> Any:
    """JSON for the Python values Arrow hands out; the original value stays recognisable."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode("ascii")
    return str(value)


class Quarantine:
    def __init__(self, root: LakehouseRoot) -> None:
        self.uri = f"{root.uri}/bronze/_quarantine"
        self._options = root.storage_options()
        self._table: DeltaTable | None = None

    def write(self, rejects: Sequence[Rejected], *, source: str, stream: str, stamp: Stamp) -> bool:
        """Quarantine `rejects` once for `stamp`; False when an earlier attempt already did."""
        if not rejects:
            return False
        now = datetime.now(UTC)
        rows = pa.table(
            {
                "load_id": [stamp.load_id] * len(rejects),
                "source": [source] * len(rejects),
                "stream": [stream] * len(rejects),
                "reason": [r.reason for r in rejects],
                "raw_payload": [r.raw_payload for r in rejects],
                "quarantined_at": [now] * len(rejects),
            },
            schema=QUARANTINE_SCHEMA,
        )

        def append(table: DeltaTable) -> None:
            write_deltalake(table, rows, mode="append", commit_properties=stamp.properties())

        # The bronze commit that follows decides between concurrent loads; here a version that is
        # already quarantined (by this load's earlier attempt, or a load killed before its bronze
        # commit) is simply not quarantined again.
        return commit_once(self._latest, stamp, append, what=f"quarantine for {source}.{stream}", follower=True)

    def _latest(self) -> DeltaTable:
        if self._table is None:
            self._table = open_table(self.uri, self._options) or create_table(
                self.uri, self._options, QUARANTINE_SCHEMA
            )
        else:
            self._table.update_incremental()
        return self._table

    def read(self) -> pa.Table:
        if open_table(self.uri, self._options) is None:
            return QUARANTINE_SCHEMA.empty_table()
        return read_table(self.uri, self._options)
