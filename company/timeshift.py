"""Shift a timestamp back by some seconds while keeping the exact spelling it came in."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})([T ])(\d{2}:\d{2}:\d{2})(.*)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_US_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")
_ODATA = re.compile(r"^/Date\((\d+)([+-]\d{4})?\)/$")
# Epoch magnitudes: seconds, milliseconds, microseconds (2001-2286 for each unit).
_UNITS = ((10**9, 10**10, 1), (10**12, 10**13, 1_000), (10**15, 10**16, 1_000_000))


def shift(value: Any, seconds: int) -> Any:
    """`value` moved `seconds` earlier; values that are not recognisably a time come back unchanged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return _shift_number(value, seconds)
    if isinstance(value, datetime):
        return value - timedelta(seconds=seconds)
    if isinstance(value, date):
        return _shift_date(value, seconds)
    if isinstance(value, str):
        return _shift_text(value, seconds)
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        if key in ("$date", "N", "S"):
            return {key: shift(inner, seconds)}
    return value


def _shift_number(value: int | float, seconds: int) -> int | float:
    for lo, hi, per_second in _UNITS:
        if lo <= abs(value) < hi:
            return value - seconds * per_second
    return value


def _shift_date(value: date, seconds: int) -> date:
    moved = datetime(value.year, value.month, value.day) - timedelta(seconds=seconds)
    return moved.date()


def _shift_text(value: str, seconds: int) -> str:
    if m := _DATETIME.match(value):
        moved = datetime.fromisoformat(f"{m[1]}T{m[3]}") - timedelta(seconds=seconds)
        return moved.strftime(f"%Y-%m-%d{m[2]}%H:%M:%S") + m[4]
    if _DATE.match(value):
        return _shift_date(date.fromisoformat(value), seconds).isoformat()
    if m := _US_DATE.match(value):
        moved = _shift_date(date(int(m[3]), int(m[1]), int(m[2])), seconds)
        return moved.strftime("%m/%d/%Y")
    if m := _ODATA.match(value):
        return f"/Date({int(m[1]) - seconds * 1000}{m[2] or ''})/"
    if value.isdigit():
        return str(_shift_number(int(value), seconds))
    return value
