"""Arrow batches from a driver, fitted to what bronze (Delta) can hold without losing a value.

- Extension types (ADBC's `arrow.json`, `arrow.uuid`, `arrow.opaque`) become their storage type; UUIDs
  become their canonical text.
- Intervals (`month_day_nano`) and durations become ISO 8601 durations (`P1Y2M3DT4H5M6.789S`):
  Delta has no interval type, and months, days and nanoseconds are kept apart as the source has them.
- Timestamps finer than microseconds are truncated to microseconds (Delta's precision); zoned timestamps
  are labelled UTC (the instant is unchanged: Arrow stores instants as UTC already).
- Decimals wider than 38 digits and untyped NULL columns become text.
- A dialect may name a column's bronze type (a decimal a driver hands over as text, a MySQL
  TIMESTAMP that is UTC): the column is cast to it, and a value that does not fit fails the load.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import pyarrow as pa

from lakehouse.core.errors import SourceError
from loaders.sql.dialect import Column, Dialect

NANOS_PER_SECOND = 1_000_000_000


def normalize(batch: pa.RecordBatch, columns: Sequence[Column], dialect: Dialect) -> pa.RecordBatch:
    by_name = {column.name: column for column in columns}
    arrays, fields = [], []
    for field, array in zip(batch.schema, batch.columns, strict=True):
        array = _plain(array)
        column = by_name.get(field.name)
        target = dialect.arrow_type(column, array.type) if column is not None else None
        if target is not None and target != array.type:
            array = _cast(array, target, field.name)
        arrays.append(array)
        fields.append(pa.field(field.name, array.type))
    return pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))


def _plain(array: pa.Array) -> pa.Array:
    kind = array.type
    if isinstance(kind, pa.BaseExtensionType):
        if "uuid" in str(kind):
            return _uuid_text(array.storage)
        return _plain(array.storage)
    if kind == pa.month_day_nano_interval():
        return _python_map(array, _interval_text)
    if pa.types.is_duration(kind):
        return _python_map(array, _duration_text)
    if pa.types.is_timestamp(kind) and (kind.unit == "ns" or kind.tz not in (None, "UTC")):
        # Delta stores microseconds, and instants as UTC (the instant is kept, the zone's name is not).
        return array.cast(pa.timestamp("us", "UTC" if kind.tz else None), safe=False)
    if pa.types.is_decimal(kind) and kind.precision > 38:
        return array.cast(pa.string())
    if pa.types.is_null(kind):
        return array.cast(pa.string())
    return array


def _cast(array: pa.Array, target: pa.DataType, name: str) -> pa.Array:
    try:
        return array.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise SourceError(
            f"column {name!r}: the source's values do not fit its declared type {target} ({exc})",
            "check the column's declared type; list the column in the stream's `columns` without it to skip it",
        ) from None


def _python_map(array: pa.Array, convert: Callable[[Any], str]) -> pa.Array:
    # Intervals are rare and small; a Python pass keeps the conversion exact and readable.
    return pa.array([None if value is None else convert(value) for value in array.to_pylist()], pa.string())


def _uuid_text(storage: pa.Array) -> pa.Array:
    return pa.array([None if v is None else str(uuid.UUID(bytes=v)) for v in storage.to_pylist()], pa.string())


def _interval_text(value: Any) -> str:
    months, days, nanos = value.months, value.days, value.nanoseconds
    return iso_duration(months, days, nanos)


def _duration_text(value: timedelta) -> str:
    micros = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    return iso_duration(0, 0, micros * 1_000)


def iso_duration(months: int, days: int, nanos: int) -> str:
    """ISO 8601 duration; each part keeps its own sign (PostgreSQL allows `-1 mons +2 days`)."""
    years, rest = divmod(abs(months), 12)
    sign = "-" if months < 0 else ""
    date_part = "".join(f"{sign}{amount}{unit}" for amount, unit in ((years, "Y"), (rest, "M")) if amount)
    if days:
        date_part += f"{days}D"
    time_part = _time_part(nanos)
    if not date_part and not time_part:
        return "PT0S"
    return f"P{date_part}" + (f"T{time_part}" if time_part else "")


def _time_part(nanos: int) -> str:
    if nanos == 0:
        return ""
    sign = "-" if nanos < 0 else ""
    hours, rest = divmod(abs(nanos), 3600 * NANOS_PER_SECOND)
    minutes, rest = divmod(rest, 60 * NANOS_PER_SECOND)
    seconds, fraction = divmod(rest, NANOS_PER_SECOND)
    text = "".join(f"{sign}{amount}{unit}" for amount, unit in ((hours, "H"), (minutes, "M")) if amount)
    if seconds or fraction:
        second_text = f"{seconds}.{fraction:09d}".rstrip("0").rstrip(".") if fraction else str(seconds)
        text += f"{sign}{second_text}S"
    return text
