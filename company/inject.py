"""Injected faults: one source misbehaves on one day, the way sources do in production."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, get_args

import pyarrow as pa

from company import records
from company.rand import stream
from company.spec import Record, StreamDef
from company.timeshift import shift

InjectionKind = Literal["volume_drop", "spike", "delay", "schema_change"]
DEFAULT_FACTOR: dict[str, float] = {"volume_drop": 0.1, "spike": 5.0, "delay": 6.0, "schema_change": 1.0}
ADDED_COLUMN = "loyalty_tier"
_TIERS = ("bronze", "silver", "gold")


@dataclass(frozen=True)
class Injection:
    """A fault on one source for one increment.

    `source` is a system (``"stripe"``) or one stream of it (``"stripe.charges"``). `factor` means:
    volume_drop, the share of rows kept (0.1); spike, how many times each row is delivered (5);
    delay, hours the cursor moves back (6); schema_change, unused. None takes those defaults.
    """

    source: str
    kind: InjectionKind
    factor: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(InjectionKind):
            raise ValueError(f"unknown injection kind {self.kind!r}; use one of {get_args(InjectionKind)}")
        if self.factor is not None and self.factor < 0:
            raise ValueError("injection factor must be >= 0")

    @property
    def value(self) -> float:
        return DEFAULT_FACTOR[self.kind] if self.factor is None else self.factor

    def applies(self, system: str, stream_name: str) -> bool:
        return self.source in (system, f"{system}.{stream_name}")

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "factor": self.value}


@dataclass
class Applied:
    rows: list[Record]
    added: dict[str, str]  # column -> type name
    retyped: dict[str, str]  # column -> new type name


def apply(inj: Injection, spec: StreamDef, rows: list[Record], seed: int, batch: str) -> Applied:
    if inj.kind == "volume_drop":
        return Applied(_drop(rows, inj.value, stream(seed, "inject", spec.native_name, batch)), {}, {})
    if inj.kind == "spike":
        return Applied([row for row in rows for _ in range(max(1, round(inj.value)))], {}, {})
    if inj.kind == "delay":
        return Applied(_delay(spec, rows, round(inj.value * 3_600)), {}, {})
    return _schema_change(spec, rows)


def _drop(rows: list[Record], keep_share: float, rng: Any) -> list[Record]:
    keep = min(len(rows), math.ceil(len(rows) * keep_share))
    chosen = sorted(rng.sample(range(len(rows)), keep))
    return [rows[i] for i in chosen]


def _delay(spec: StreamDef, rows: list[Record], seconds: int) -> list[Record]:
    if spec.cursor_field is None:
        return rows
    for row in rows:
        value = records.get(row, spec.cursor_field)
        records.set_value(row, spec.cursor_field, shift(value, seconds))
    return rows


def _keys(spec: StreamDef) -> set[str]:
    return {p.split(".")[0] for p in (*spec.primary_key, spec.cursor_field or "")}


def _schema_change(spec: StreamDef, rows: list[Record]) -> Applied:
    """A release upstream: one new column, and one numeric (or flag) column now arrives as text."""
    target = _retype_target(spec, rows)
    for i, row in enumerate(rows):
        holder = row["Item"] if isinstance(row.get("Item"), dict) else row
        tier = _TIERS[i % 3]
        holder[ADDED_COLUMN] = {"S": tier} if holder is not row else tier
        if target is not None:
            records.set_value(row, target, _as_text(records.get(row, target), spec.fmt))
    return Applied(rows, {ADDED_COLUMN: "string"}, {target: "string"} if target else {})


def _retype_target(spec: StreamDef, rows: list[Record]) -> str | None:
    if not rows:
        return None
    if spec.schema is not None:
        return _parquet_target(spec)
    sample, skip = rows[0], _keys(spec)
    if isinstance(sample.get("Item"), dict):
        return next((k for k, v in sample["Item"].items() if isinstance(v, dict) and "N" in v and k not in skip), None)
    for wanted in (_is_number, _is_flag):
        found = next((k for k, v in sample.items() if k not in skip and wanted(v)), None)
        if found:
            return found
    for key, value in sample.items():
        if isinstance(value, dict) and key not in skip:
            inner = next((k for k, v in value.items() if _is_number(v) or _is_flag(v)), None)
            if inner:
                return f"{key}.{inner}"
    return None


def _parquet_target(spec: StreamDef) -> str | None:
    assert spec.schema is not None
    skip = _keys(spec)
    candidates = [f for f in spec.schema if f.name not in skip]
    numeric = (pa.types.is_integer, pa.types.is_floating, pa.types.is_decimal)
    found = next((f.name for f in candidates if any(test(f.type) for test in numeric)), None)
    return found or next((f.name for f in candidates if pa.types.is_boolean(f.type)), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_flag(value: Any) -> bool:
    return isinstance(value, bool)


def _as_text(value: Any, fmt: str) -> Any:
    if value is None:
        return None
    if isinstance(value, dict) and "N" in value:
        return {"S": value["N"]}
    if isinstance(value, bool):
        return str(value).lower()
    if fmt == "csv" and _is_number(value):
        return f"{value:,}"  # spreadsheet-style thousands separators
    return str(value)
