"""What a stream hands the pipeline: a `Batch` of Arrow data with the cursor after it, and the `SyncMode`s.

Kept apart from `protocol.py` (which re-exports both) because the configuration and the quarantine need
these types while the protocol needs the configuration: this way nothing imports in a circle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa


class SyncMode(StrEnum):
    FULL_REFRESH = "full_refresh"  # every load replaces the table
    APPEND = "append"  # incremental by cursor; bronze keeps every version of a row
    MERGE = "merge"  # incremental, upserted on the primary key
    CDC = "cdc"  # inserts, updates and deletes, marked in `_op`


@dataclass(frozen=True)
class Batch:
    data: pa.RecordBatch | pa.Table
    cursor: str | None  # the stream's position after this batch, opaque to everyone but the stream
    # The source itself replaced the stream's data (an Airbyte refresh: a new generation id): this batch
    # overwrites the bronze table instead of appending, in the same commit as its cursor.
    replace: bool = field(default=False, kw_only=True)
