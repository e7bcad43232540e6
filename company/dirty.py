"""Dirty records: a bounded share of broken lines in JSON Lines files, as real feeds contain.

Each dirty line is an extra, corrupted copy of a real record placed right after it, so the clean data
stays complete: a loader that quarantines the dirty lines still reconciles with the ground truth.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from company import records
from company.rand import stream
from company.spec import Record, StreamDef

MAX_SHARE = 0.01
KINDS = ("malformed_json", "missing_required_field", "wrong_type")


def dirty_count(n: int) -> int:
    """About 0.5% of lines, at least one in any file of 100 lines or more, never above 1%."""
    return max(n // 200, 1 if n >= 100 else 0)


def dumps(record: Record) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def lines(spec: StreamDef, rows: list[Record], seed: int, label: str) -> tuple[list[str], int]:
    """The file's lines with dirty copies interleaved, and how many of them are dirty."""
    n = dirty_count(len(rows))
    rng = stream(seed, "dirty", spec.native_name, spec.stream, label)
    picks = dict.fromkeys(sorted(rng.sample(range(len(rows)), n)), "")
    for i in picks:
        picks[i] = rng.choice(KINDS)
    out: list[str] = []
    for i, row in enumerate(rows):
        out.append(dumps(row))
        if i in picks:
            out.append(_corrupt(spec, row, picks[i]))
    return out, n


def _corrupt(spec: StreamDef, row: Record, kind: str) -> str:
    if kind == "malformed_json":
        text = dumps(row)
        return text[: max(1, len(text) * 3 // 5)]  # a write cut off mid-record
    broken = copy.deepcopy(row)
    required = spec.primary_key[0] if spec.primary_key else spec.cursor_field
    if kind == "missing_required_field" and required:
        records.remove(broken, required)
    elif spec.cursor_field:
        records.set_value(broken, spec.cursor_field, _wrong(records.get(broken, spec.cursor_field)))
    return dumps(broken)


def _wrong(value: Any) -> Any:
    """The same information in the wrong JSON type."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return {"value": value}
    return json.dumps(value, separators=(",", ":"))
