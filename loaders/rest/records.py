"""Records: dotted paths into JSON, the instants APIs write timestamps as, templates, and pages to Arrow.

A page of JSON records becomes one Arrow table through pyarrow's JSON reader (the same type
inference as the files family's JSON Lines, so a REST stream and the files it replaces land alike).
Records that cannot be converted, alone, are returned as rejects for the quarantine.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson

from loaders.core.bronze import RESERVED_NAMES
from loaders.core.quarantine import Rejected
from loaders.core.schema_policy import SchemaPolicy, conform
from loaders.rest.options import FieldOptions

_TEMPLATE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.$]*)\}")
_SAP_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_OFFSET_NO_COLON = re.compile(r"([+-]\d{2})(\d{2})$")
_INTEGER = re.compile(r"^\s*-?\d+\s*$")


def dig(value: Any, path: str) -> Any:
    """`a.b.c` into nested mappings; on a list, the path maps over its items (`edges.node`)."""
    if not path:
        return value
    for part in path.split("."):
        if isinstance(value, list):
            value = [item.get(part) if isinstance(item, dict) else None for item in value]
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def has_path(value: Any, path: str) -> bool:
    """Whether `path` names a key of the record (its value may be null)."""
    *parents, last = path.split(".")
    holder = dig(value, ".".join(parents)) if parents else value
    return isinstance(holder, dict) and last in holder


def reshape(record: dict[str, Any], fields: dict[str, FieldOptions]) -> dict[str, Any]:
    """The record bronze keeps, built from the API's record by the stream's `fields:`.

    Raises ValueError, naming the field, when a value cannot be converted (the record is quarantined).
    """
    return {name: _field(record, name, spec) for name, spec in fields.items()}


def _field(record: dict[str, Any], name: str, spec: FieldOptions) -> Any:
    value = dig(record, spec.path)
    if spec.fields:
        if isinstance(value, list):
            value = [reshape(item, spec.fields) if isinstance(item, dict) else item for item in value]
        elif isinstance(value, dict):
            value = reshape(value, spec.fields)
    if spec.join is not None and isinstance(value, list):
        value = spec.join.join(str(item) for item in value if item is not None)
    if spec.values and value is not None:
        value = spec.values.get(str(value), value)
    if spec.times is not None and value is not None:
        factor = _field(record, name, spec.times)
        value = None if factor is None else _number(value, name) * _number(factor, name)
    if spec.type is not None and value is not None:
        value = _cast(value, spec.type, name)
    return value


def _number(value: Any, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"field {name!r}: {value!r} is not a number") from None


def _cast(value: Any, kind: str, name: str) -> Any:
    if kind == "string":
        return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise ValueError(f"field {name!r}: {value!r} is not a boolean")
    if kind == "number":
        return _number(value, name)
    if isinstance(value, str):  # an id in text (GraphQL's UnsignedInt64): exact, never through a float
        if not _INTEGER.match(value):
            raise ValueError(f"field {name!r}: {value!r} is not an integer")
        return int(value)
    return round(_number(value, name))  # a computed amount (a weight in grams) rounds as the API's own does


def put(record: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        record = record.setdefault(part, {})
    record[parts[-1]] = value


def render(value: Any, names: dict[str, Any]) -> Any:
    """Replace `{name}` placeholders in strings, recursively; a string that is one placeholder keeps its type."""
    if isinstance(value, dict):
        return {key: render(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item, names) for item in value]
    if not isinstance(value, str):
        return value
    whole = _TEMPLATE.fullmatch(value)
    if whole and whole.group(1) in names:
        return names[whole.group(1)]
    return _TEMPLATE.sub(lambda m: str(names[m.group(1)]) if m.group(1) in names else m.group(0), value)


def to_instant(value: Any) -> datetime | None:
    """The instant a cursor value stands for: epoch seconds or milliseconds, ISO 8601 (with `Z`,
    `+0000` or `-05:00`), `YYYY-MM-DD hh:mm:ss`, a date, or SAP's `/Date(ms+0000)/`. None if unknown."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > 100_000_000_000 else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        return None
    text = value.strip()
    sap = _SAP_DATE.match(text)
    if sap:
        return datetime.fromtimestamp(int(sap.group(1)) / 1000, UTC)
    if text.isdigit():
        return to_instant(int(text))
    text = _OFFSET_NO_COLON.sub(r"\1:\2", text.replace("Z", "+00:00")) if "T" in text or " " in text else text
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_instant(moment: datetime, style: str) -> str | int:
    moment = moment.astimezone(UTC)
    if style == "epoch":
        return int(moment.timestamp())
    if style == "epoch_ms":
        return int(moment.timestamp() * 1000)
    if style == "iso":
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    if style == "date":
        return moment.date().isoformat()
    return moment.strftime(style)


def content_hash(record: Any) -> str:
    """A record's identity for the lookback window: same content, same hash, whatever the key order."""
    text = json.dumps(record, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def to_table(records: list[dict[str, Any]], origin: str) -> tuple[pa.Table, list[Rejected]]:
    """One Arrow table for a page; records Arrow cannot take go back as rejects."""
    lines = [json.dumps(record, separators=(",", ":"), default=str).encode() for record in records]
    tables, rejects = _parse(lines, origin)
    tables = [t for t in tables if t.num_rows]
    if not tables:
        return pa.table({}), rejects
    if len(tables) == 1:
        return tables[0], rejects
    try:
        return pa.concat_tables(tables, promote_options="permissive"), rejects
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        reference = max(tables, key=lambda t: t.num_rows).schema
        fitted = [conform(t, reference, SchemaPolicy.EVOLVE, passthrough=RESERVED_NAMES).data for t in tables]
        return pa.concat_tables(fitted, promote_options="permissive"), rejects


def _parse(lines: list[bytes], origin: str) -> tuple[list[pa.Table], list[Rejected]]:
    if not lines:
        return [], []
    payload = b"\n".join(lines)
    try:
        options = pajson.ReadOptions(use_threads=False, block_size=max(1 << 20, len(payload) + 1))
        return [pajson.read_json(io.BytesIO(payload), read_options=options)], []
    except pa.ArrowInvalid as exc:
        if len(lines) == 1:
            text = lines[0].decode()
            return [], [Rejected(f"record cannot be converted to Arrow: {exc}", text, origin)]
    middle = len(lines) // 2
    left, left_rejects = _parse(lines[:middle], origin)
    right, right_rejects = _parse(lines[middle:], origin)
    return left + right, left_rejects + right_rejects


def split_objects(items: Iterable[Any], origin: str) -> tuple[list[dict[str, Any]], list[Rejected]]:
    """Records must be JSON objects; anything else is rejected with its text."""
    good, bad = [], []
    for item in items:
        if isinstance(item, dict):
            good.append(item)
        else:
            bad.append(Rejected(f"a record must be a JSON object, not {type(item).__name__}", json.dumps(item), origin))
    return good, bad
