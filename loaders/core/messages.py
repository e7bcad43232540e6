"""What the message-stream families (Kafka, Kinesis, MQTT) share: envelopes into Arrow, and following.

A message family turns each message into one JSON line, its *envelope*: the transport's fields
(topic, partition, offset, ...) and the payload under one key, in the shape the company's exported
files have, so bronze looks the same whether a stream was landed from files or from the server.
`parse_envelopes` parses a micro-batch of such lines with Arrow's JSON reader at once; a line that
does not parse (a malformed payload) is split out by bisection and returned as a `Rejected` with its
origin (topic/partition/offset), so one bad message never stops the stream.

Following: a stream with `follows = True` accepts `read(cursor, stop=event)`. Given an event (by
`lakehouse stream`), it reads on past the end a load stops at, and returns after its current batch once
the event is set. Without one (`lakehouse load`), it reads to the end it saw when it started.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import io
import json
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.json as pajson

from loaders.core.quarantine import Rejected
from loaders.core.schema_policy import one_array


def parse_envelopes(
    lines: Sequence[bytes], origins: Sequence[str], payload_starts: Sequence[int]
) -> tuple[pa.Table, list[Rejected]]:
    """One table of the lines that parse, and a `Rejected` (reason naming its origin) per line that does not.

    Each line is an envelope whose last member is the payload (`..."value":<payload>}`), starting at
    `payload_starts[i]`: a rejected line's raw payload is that, without the envelope.
    """
    tables: list[pa.Table] = []
    rejects: list[Rejected] = []
    for table, rejected in _parse(list(lines), list(origins), list(payload_starts)):
        if table is not None and table.num_rows:
            tables.append(table)
        rejects.extend(rejected)
    if not tables:
        return pa.table({}), rejects
    if len(tables) == 1:
        return tables[0], rejects
    try:
        return pa.concat_tables(tables, promote_options="permissive"), rejects
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # pieces disagree on a type: keep the first piece's, rescue the rest
        return _fitted(tables), rejects


def _parse(
    lines: list[bytes], origins: list[str], starts: list[int]
) -> Iterator[tuple[pa.Table | None, list[Rejected]]]:
    if not lines:
        return
    payload = b"\n".join(lines)
    try:
        options = pajson.ReadOptions(use_threads=False, block_size=max(1 << 20, len(payload) + 1))
        yield pajson.read_json(io.BytesIO(payload), read_options=options), []
        return
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        failure = str(exc)
    if len(lines) == 1:
        payload = lines[0][starts[0] : -1]
        raw = raw_text(payload)
        yield None, [Rejected(f"{origins[0]}: {_reason(payload, failure)}", raw, origins[0])]
        return
    middle = len(lines) // 2
    yield from _parse(lines[:middle], origins[:middle], starts[:middle])
    yield from _parse(lines[middle:], origins[middle:], starts[middle:])


def raw_text(payload: bytes | None) -> str:
    """A payload as the quarantine keeps it: its text, or `base64:...` when it is not UTF-8."""
    if payload is None:
        return ""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return "base64:" + base64.b64encode(payload).decode()


def _reason(payload: bytes, failure: str) -> str:
    try:
        json.loads(payload)
    except ValueError as exc:
        return f"malformed JSON payload: {exc}"
    return f"message cannot be converted to Arrow: {failure}"


def _fitted(tables: list[pa.Table]) -> pa.Table:
    from loaders.core.bronze import RESERVED_NAMES
    from loaders.core.schema_policy import SchemaPolicy, conform

    reference = max(tables, key=lambda t: t.num_rows).schema
    fitted = [conform(t, reference, SchemaPolicy.EVOLVE, passthrough=RESERVED_NAMES).data for t in tables]
    return pa.concat_tables(fitted, promote_options="permissive")


def parse_json_objects(payloads: Sequence[bytes | None]) -> tuple[pa.Array, dict[int, str]]:
    """Payloads holding one JSON object each (None: a null) as one struct column, and why the others failed.

    The column has a row for every payload that did not fail, in order (null for a None); the failures
    map a payload's index to the reason. Parsed together with Arrow's JSON reader; a failing chunk is
    split until each bad payload stands alone.
    """
    present = [i for i, payload in enumerate(payloads) if payload is not None]
    lines: list[bytes] = [payloads[i] for i in present]  # type: ignore[misc]
    joined: bytes | None = b"\n".join(lines)
    # A value spans lines (more line feeds than separators, or any carriage return): compact each to one line.
    if joined.count(b"\n") != max(len(lines) - 1, 0) or b"\r" in joined:
        lines, joined = [_one_line(line) for line in lines], None
    tables: list[pa.Table] = []
    failures: dict[int, str] = {}
    for table, failed in _parse_objects(lines, present, joined):
        if table is not None and table.num_rows:
            tables.append(table)
        failures.update(failed)
    if not tables:
        parsed = pa.table({})
    elif len(tables) == 1:
        parsed = tables[0]
    else:
        try:
            parsed = pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            parsed = _fitted(tables)
    if parsed.num_columns:
        struct: pa.Array = pa.StructArray.from_arrays([one_array(c) for c in parsed.columns], names=parsed.column_names)
    else:
        struct = pa.nulls(parsed.num_rows)
    if len(present) - len(failures) == len(payloads):
        return struct, failures
    # Nulls where a payload was None: take() with a null index gives a null row.
    position, indices = 0, []
    for i, payload in enumerate(payloads):
        if i in failures:
            continue
        if payload is None:
            indices.append(None)
        else:
            indices.append(position)
            position += 1
    return struct.take(pa.array(indices, pa.int64())), failures


def _one_line(payload: bytes) -> bytes:
    """A JSON payload written over several lines, compacted to one; left as it is when it is not JSON."""
    if b"\n" not in payload and b"\r" not in payload:
        return payload
    try:
        return json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        return payload.replace(b"\r", b" ").replace(b"\n", b" ")  # still malformed, but one line: rejected alone


def _parse_objects(
    lines: list[bytes], index: list[int], joined: bytes | None = None
) -> Iterator[tuple[pa.Table | None, dict[int, str]]]:
    if not lines:
        return
    payload = joined if joined is not None else b"\n".join(lines)
    try:
        options = pajson.ReadOptions(use_threads=False, block_size=max(1 << 20, len(payload) + 1))
        table = pajson.read_json(io.BytesIO(payload), read_options=options)
        if table.num_rows == len(lines):
            yield table, {}
            return
        failure = f"{len(lines)} payloads parsed as {table.num_rows} records"
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        failure = str(exc)
    if len(lines) == 1:
        yield None, {index[0]: _object_reason(lines[0], failure)}
        return
    middle = len(lines) // 2
    yield from _parse_objects(lines[:middle], index[:middle])
    yield from _parse_objects(lines[middle:], index[middle:])


def _object_reason(payload: bytes, failure: str) -> str:
    try:
        value = json.loads(payload)
    except ValueError as exc:
        return f"malformed JSON payload: {exc}"
    if not isinstance(value, dict):
        return f"the JSON payload is not an object but {type(value).__name__}"
    return f"message cannot be converted to Arrow: {failure}"


def payload_json(payload: bytes) -> bytes | None:
    """A payload as one line of JSON text: as it is when it has no line break, else re-serialised.

    None when it holds a line break and is not JSON (the caller rejects it; it would split the line).
    """
    if b"\n" not in payload and b"\r" not in payload:
        return payload if payload else b"null"
    try:
        return json.dumps(json.loads(payload), separators=(",", ":"), ensure_ascii=False).encode()
    except ValueError:
        return None


def to_json_value(value: Any) -> Any:
    """`json.dumps` default for decoded Avro: bytes as base64, decimals and times as text."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_text(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=to_json_value).encode()
