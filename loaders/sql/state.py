"""A SQL stream's cursor: the watermark of finished loads and the progress of the running one.

The cursor is the JSON the pipeline stores in each bronze commit. Between loads it holds the
high-water mark of the cursor column (`watermark`), the keys already loaded at exactly that value
(`boundary`, hashes, for de-duplication under an inclusive lower bound) and when keys were last
reconciled. When more rows share the watermark than `max_boundary_keys`, the hashes give way to a
tie-break: `tie` is set and every row at the watermark whose key is at most `top_key` (the greatest
key loaded there) counts as loaded; the next load reads `cursor > watermark OR (cursor = watermark
AND key > top_key)`, compared by the database.
During a load it also holds `run`: the window, the chunk plan, the chunks already committed (as id
ranges) and the position reached inside chunks that can be resumed part way. A resumed load reads
only the chunks the cursor does not list as done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from lakehouse.core.errors import SourceError

VERSION = 1


def encode_value(value: Any) -> Any:
    """A boundary value as JSON, tagged with its type so it decodes to the same Python value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return {"bool": value}
    if isinstance(value, int):
        return {"int": value}
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, float):
        return {"float": value}
    if isinstance(value, datetime):
        return {"timestamp": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, str):
        return {"str": value}
    raise TypeError(f"a {type(value).__name__} cannot be a cursor or chunk boundary")


def decode_value(raw: Any) -> Any:
    if raw is None:
        return None
    (kind, value), *_ = raw.items()
    decoders = {
        "bool": bool,
        "int": int,
        "decimal": Decimal,
        "float": float,
        "timestamp": datetime.fromisoformat,
        "date": date.fromisoformat,
        "str": str,
    }
    return decoders[kind](value)


@dataclass
class Run:
    """One load in progress: a fixed window and plan, and what of it is committed."""

    lower: Any
    upper: Any
    include_nulls: bool
    plan: dict[str, Any]
    done: list[list[int]] = field(default_factory=list)  # committed chunk ids, as [first, last] ranges
    partial: dict[str, Any] = field(default_factory=dict)  # chunk id -> resume position
    boundary: list[str] = field(default_factory=list)  # keys read at exactly `upper`
    top_key: Any = None  # the greatest key read at exactly `upper` (integer, decimal, date or timestamp keys)
    overflow: bool = False  # more keys at `upper` than `max_boundary_keys`: `top_key` replaces `boundary`
    lower_key: Any = None  # rows at `lower` with a key up to this were loaded before the run (a tie-break)

    def is_done(self, chunk: int) -> bool:
        return any(first <= chunk <= last for first, last in self.done)

    def mark_done(self, chunk: int) -> None:
        self.partial.pop(str(chunk), None)
        self.done = _merged([*self.done, [chunk, chunk]])

    def dump(self) -> dict[str, Any]:
        return {
            "lower": encode_value(self.lower),
            "upper": encode_value(self.upper),
            "include_nulls": self.include_nulls,
            "plan": self.plan,
            "done": self.done,
            "partial": self.partial,
            "boundary": self.boundary,
            "top_key": encode_value(self.top_key),
            "overflow": self.overflow,
            "lower_key": encode_value(self.lower_key),
        }

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Run:
        return cls(
            decode_value(raw["lower"]),
            decode_value(raw["upper"]),
            bool(raw["include_nulls"]),
            dict(raw["plan"]),
            [list(r) for r in raw.get("done", [])],
            dict(raw.get("partial", {})),
            list(raw.get("boundary", [])),
            decode_value(raw.get("top_key")),
            bool(raw.get("overflow", raw.get("plan", {}).get("boundary_overflow", False))),
            decode_value(raw.get("lower_key")),
        )


@dataclass
class SqlState:
    watermark: Any = None
    boundary: list[str] = field(default_factory=list)
    reconciled_at: str | None = None
    run: Run | None = None
    top_key: Any = None  # the greatest key loaded at the watermark, when the key can be tie-broken
    tie: bool = False  # rows at the watermark with a key up to `top_key` are loaded (`boundary` overflowed)

    def dump(self) -> str:
        document = {
            "v": VERSION,
            "watermark": encode_value(self.watermark),
            "boundary": self.boundary,
            "reconciled_at": self.reconciled_at,
            "run": self.run.dump() if self.run else None,
            "top_key": encode_value(self.top_key),
            "tie": self.tie,
        }
        return json.dumps(document, separators=(",", ":"), default=str)

    @classmethod
    def load(cls, cursor: str | None, stream: str) -> SqlState:
        if cursor is None:
            return cls()
        try:
            raw = json.loads(cursor)
            if raw.get("v") != VERSION:
                raise ValueError(f"cursor version {raw.get('v')!r}")
            run = Run.load(raw["run"]) if raw.get("run") else None
            return cls(
                decode_value(raw.get("watermark")),
                list(raw.get("boundary", [])),
                raw.get("reconciled_at"),
                run,
                decode_value(raw.get("top_key")),
                bool(raw.get("tie", False)),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise SourceError(
                f"stream {stream!r}: the cursor stored in bronze is not a SQL stream cursor ({exc})",
                "the table was written by another source type; reload the stream with --full-refresh",
            ) from None

    def same_watermark(self, run: Run) -> bool:
        """The run ends where the last one did: what was loaded at the watermark still counts."""
        return run.upper is not None and run.upper == self.watermark

    def finished(self, run: Run) -> SqlState:
        """The state once every chunk of `run` is committed: its upper bound becomes the watermark, and
        the keys loaded at it (this run's, plus the last run's when the watermark did not move) are
        remembered, as hashes or, after an overflow, as the greatest key."""
        if run.upper is None:
            return replace(self, boundary=list(run.boundary), run=None)
        same = self.same_watermark(run)
        tops = [key for key in (run.top_key, self.top_key if same else None) if key is not None]
        top = max(tops) if tops else None
        if run.overflow:
            return replace(self, watermark=run.upper, boundary=[], top_key=top, tie=True, run=None)
        boundary = [*(self.boundary if same else []), *run.boundary]
        return replace(self, watermark=run.upper, boundary=boundary, top_key=top, tie=False, run=None)


def _merged(ranges: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged
