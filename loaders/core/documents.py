"""Rows of documents (plain Python values, decimals as `decimal.Decimal`) to one Arrow table.

Shared by the document and key-value families (MongoDB, DynamoDB), whose records are nested and
loosely typed. Per top-level field, over one batch:

- all decimals: `decimal128(max_digits, s)`, s the largest scale among them; NaN, Infinity, or a
  value that does not fit `max_digits` digits at that scale: the decimals' exact text (string);
- decimals nested in a document or list: their exact text (Arrow structs cannot vary their scale);
- timestamps: microseconds, UTC;
- values that share no Arrow type (an int here, a string there): JSON text (`to_json`), nothing lost.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa


def documents_to_arrow(rows: Iterable[dict[str, Any]], *, max_digits: int, to_json: Callable[[Any], str]) -> pa.Table:
    rows = list(rows)
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return pa.table({name: _column([row.get(name) for row in rows], max_digits, to_json) for name in names})


def _column(values: list[Any], max_digits: int, to_json: Callable[[Any], str]) -> pa.Array:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, decimal.Decimal) for v in present):
        return _decimals(values, present, max_digits)
    if any(_has_decimal(v) for v in present):
        values = [_decimal_text(v) for v in values]
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        return pa.array([None if v is None else to_json(v) for v in values], pa.string())
    if pa.types.is_timestamp(array.type):
        return array.cast(pa.timestamp("us", tz="UTC"))
    return array


def _decimals(values: list[Any], present: list[decimal.Decimal], max_digits: int) -> pa.Array:
    as_text = pa.array([None if v is None else str(v) for v in values], pa.string())
    if not all(n.is_finite() for n in present):
        return as_text
    scale = max(max(0, -int(n.as_tuple().exponent)) for n in present)
    whole = max(len(n.as_tuple().digits) + int(n.as_tuple().exponent) for n in present)
    if scale > max_digits or max(whole, 1) + scale > max_digits:
        return as_text
    return pa.array(values, pa.decimal128(max_digits, scale))


def _has_decimal(value: Any) -> bool:
    if isinstance(value, decimal.Decimal):
        return True
    if isinstance(value, dict):
        return any(_has_decimal(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_decimal(v) for v in value)
    return False


def _decimal_text(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _decimal_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal_text(v) for v in value]
    return value
