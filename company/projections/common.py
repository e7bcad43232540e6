"""Small helpers shared by the projections: Arrow type shorthands and money spellings."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa

from company.catalog import FX_TO_USD

STR = pa.string()
I32 = pa.int32()
I64 = pa.int64()
F64 = pa.float64()
BOOL = pa.bool_()
DATE = pa.date32()
TSTZ = pa.timestamp("us", tz="UTC")
TS = pa.timestamp("us")
TS_MS = pa.timestamp("ms")  # Oracle DATE (seconds); Parquet stores it at millisecond precision


def dec(precision: int, scale: int) -> pa.Decimal128Type:
    return pa.decimal128(precision, scale)


def schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in fields])


def money(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)


def money_str(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    return f"{sign}{whole}.{cents:02d}"


def money_float(minor: int) -> float:
    return round(minor / 100, 2)


def usd(minor: int, currency: str) -> int:
    return round(minor * FX_TO_USD[currency])
