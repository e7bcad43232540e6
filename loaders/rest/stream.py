"""One REST stream: pages in, one Arrow batch per page out, with a cursor that resumes mid-run.

The cursor (JSON, committed with each batch) holds:

- `max`: the largest `cursor_field` value of the last finished run, and `edge`: the content hashes
  of the records inside the lookback window before it. A run asks for records updated since
  `max - lookback`, drops those older than that, and skips the ones whose content it already loaded
  (`edge`): the lookback catches late records without loading anything twice.
- `run`, while a run is under way: its `since`, the request of the next page (`next`), the records
  of an export already taken (`skip`), the parent record reached (`parent`), the Bulk API job and
  locator (`bulk`), the running maximum and the hashes it saw. A load killed between two pages
  resumes with the page it had not committed; the last page's cursor closes the run.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

from lakehouse.core.errors import ConfigError, SourceError
from loaders.core.config import StreamConfig
from loaders.core.protocol import Batch
from loaders.core.quarantine import BatchWithRejects, Rejected
from loaders.rest.client import Request, RestClient
from loaders.rest.options import EnrichOptions, RestOptions, RestStreamOptions, parse_duration
from loaders.rest.paginate import first_request, next_request
from loaders.rest.records import (
    content_hash,
    dig,
    format_instant,
    has_path,
    put,
    render,
    reshape,
    split_objects,
    to_instant,
    to_table,
)

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass
class _Cursor:
    max: str | None = None
    edge: dict[str, float] = field(default_factory=dict)
    run: dict[str, Any] | None = None

    def dump(self) -> str:
        return json.dumps({"max": self.max, "edge": self.edge, "run": self.run}, sort_keys=True)

    @classmethod
    def load(cls, raw: str | None) -> _Cursor:
        if not raw:
            return cls()
        data = json.loads(raw)
        return cls(data.get("max"), dict(data.get("edge") or {}), data.get("run"))


@dataclass
class _Page:
    records: list[dict[str, Any]]
    rejects: list[Rejected]
    after: dict[str, Any]  # the run's state once this page is committed
    final: bool = False  # the run's last page


class RestStream:
    def __init__(self, client: RestClient, config: StreamConfig, source_options: RestOptions) -> None:
        self.config = config
        self.client = client
        self.options = config.family_options(RestStreamOptions)
        self.source_options = source_options
        self.page_size = self.options.page_size or source_options.page_size
        incremental = self.options.incremental
        if incremental is not None and not config.cursor_field:
            raise ConfigError(
                f"{config.source_file}: stream {config.name!r} has `incremental` but no `cursor_field`",
                "set `cursor_field` to the record's updated-at field (a dotted path)",
            )
        self.lookback = parse_duration(incremental.lookback) if incremental else None

    # --- the run ------------------------------------------------------------------------------

    def read(self, cursor: str | None) -> Iterator[Batch]:
        state = _Cursor.load(cursor)
        run = state.run or self._new_run(state)
        self._max, self._seen = run["max"], dict(run["seen"])
        pages = self._bulk(run) if self.options.bulk else self._partitions(run)
        produced = False
        for page in pages:
            last = page.final
            kept = self._keep(page.records, state, run["since"], page.rejects)
            data, rejects = to_table(kept, origin=self.config.name)
            if last:
                edge = {**state.edge, **self._seen}
                self._prune(edge)
                closing = _Cursor(self._max, edge, None)
            else:
                position = {"since": run["since"], "max": self._max, "seen": dict(self._seen)}
                closing = _Cursor(state.max, state.edge, page.after | position)
            changed = closing.dump() != _Cursor.load(cursor).dump()
            if kept or page.rejects or rejects or (last and changed):  # pages with nothing new: no commit
                produced = True
                yield BatchWithRejects(data, closing.dump(), tuple(page.rejects + rejects))
        if not produced and state.run is not None:  # a resumed run with nothing left still closes
            yield Batch(to_table([], self.config.name)[0], _Cursor(self._max, state.edge, None).dump())

    def _new_run(self, state: _Cursor) -> dict[str, Any]:
        since = to_instant(state.max) if state.max else to_instant(self.source_options.start_date)
        if since is None:
            raise ConfigError(
                f"options.start_date {self.source_options.start_date!r} is not a date or timestamp",
                "write it as 2024-01-01 or 2024-01-01T00:00:00Z",
            )
        if self.lookback is not None and state.max:
            since -= self.lookback
        return {"since": since.isoformat(), "max": state.max, "seen": {}, "parent": 0, "next": None, "skip": 0}

    def _keep(
        self, records: list[dict[str, Any]], state: _Cursor, since_text: str, rejects: list[Rejected]
    ) -> list[dict[str, Any]]:
        """Records to land: inside the window, not loaded before; moves the run's maximum and hashes."""
        prepared = [p for p in (self._prepared(r, rejects) for r in records) if p is not None]
        field_name = self.config.cursor_field
        if self.options.incremental is None or not field_name:
            return prepared
        self._check_cursor_field(prepared, field_name)
        since = datetime.fromisoformat(since_text)
        kept = []
        for record in prepared:
            value = dig(record, field_name)
            moment = to_instant(value)
            if value is not None and moment is None:
                rejects.append(Rejected(f"cursor field {field_name!r} holds {value!r}: not a time", json.dumps(record)))
                continue
            if moment is not None and moment < since:
                continue
            digest = content_hash(record)
            if digest in state.edge or digest in self._seen:
                continue
            kept.append(record)
            if moment is not None:
                self._seen[digest] = moment.timestamp()
                if self._max is None or moment > datetime.fromisoformat(self._max):
                    self._max = moment.isoformat()
        self._prune(self._seen)
        return kept

    def _prepared(self, record: dict[str, Any], rejects: list[Rejected]) -> dict[str, Any] | None:
        """The record as it lands: enriched (the details may hold the cursor field: NetSuite), then mapped."""
        record = self._enriched(record)
        if not self.options.fields:
            return record
        try:
            return reshape(record, self.options.fields)
        except ValueError as exc:
            rejects.append(Rejected(f"cannot map the record: {exc}", json.dumps(record, default=str)))
            return None

    def _check_cursor_field(self, records: list[dict[str, Any]], field_name: str) -> None:
        """A cursor field no record has would load everything on every run, and silently: refuse it."""
        if not records or any(has_path(record, field_name) for record in records):
            return
        names = ", ".join(sorted({key for record in records for key in record})[:20])
        where = self.config.source_file or self.client.source
        raise ConfigError(
            f"{where}: stream {self.config.name!r}: no record of the page has the cursor field {field_name!r} "
            f"(the records have: {names})",
            "set `cursor_field` to the updated-at field the API returns (a dotted path), "
            "or name it in the stream's `fields:`",
        )

    def _prune(self, hashes: dict[str, float]) -> None:
        if self._max is None or self.lookback is None:
            return
        floor = (datetime.fromisoformat(self._max) - self.lookback).timestamp()
        for digest in [d for d, t in hashes.items() if t < floor]:
            del hashes[digest]

    # --- requests -----------------------------------------------------------------------------

    def _names(self, run: dict[str, Any], parent: dict[str, Any] | None = None) -> dict[str, Any]:
        names: dict[str, Any] = {"page_size": self.page_size}
        names |= {f"vars.{key}": value for key, value in self.source_options.vars.items()}
        incremental = self.options.incremental
        if incremental is not None:
            names["since"] = format_instant(datetime.fromisoformat(run["since"]), incremental.since_format)
            names["until"] = format_instant(datetime.now(UTC), incremental.until_format or incremental.since_format)
        for key, path in (self.options.parent.fields if self.options.parent else {}).items():
            names[f"parent.{key}"] = dig(parent, path)
        return names

    def _partitions(self, run: dict[str, Any]) -> Iterator[_Page]:
        parents: list[dict[str, Any] | None] = [None]
        if self.options.parent is not None:
            parents = list(self._parents(run))
        first = run["parent"]
        for index in range(first, len(parents)):
            resume = (run["next"], run.get("skip", 0)) if index == first else (None, 0)
            names = self._names(run, parents[index])
            carried = {
                key: names[f"parent.{key}"] for key in (self.options.parent.fields if self.options.parent else {})
            }
            for page in self._pages(run, names, *resume):
                page.after["parent"] = index + 1 if page.after["next"] is None else index
                page.final = page.after["next"] is None and index == len(parents) - 1
                page.records = [{**carried, **record} for record in page.records]
                yield page

    def _parents(self, run: dict[str, Any]) -> Iterator[dict[str, Any]]:
        parent = self.options.parent
        assert parent is not None
        names = self._names(run)
        request = Request(parent.method, render(parent.path, names), render(parent.params, names))
        body = self.client.send(request).json()
        records, _ = split_objects(_as_list(dig(body, parent.records_path)), parent.path)
        yield from records

    def _pages(
        self, run: dict[str, Any], names: dict[str, Any], resume: dict[str, Any] | None, skip: int
    ) -> Iterator[_Page]:
        o = self.options
        if resume is not None:
            request = Request.from_state(resume)
        else:
            request = Request(o.method, render(o.path, names), render(o.params, names), render(o.body, names))
            request = first_request(o.paginator, request, self.page_size)
        if o.response != "json":
            yield from self._export(request, skip)
            return
        while True:
            response = self.client.send(request, headers=o.headers)
            body = _json_body(response, self.config.name)
            self._refuse_errors(body)
            records, rejects = split_objects(self._records_of(body), _origin(request))
            following = next_request(o.paginator, request, response, body, records, self.page_size)
            stored = following.state() | {"url": self.client.clean(following.url)} if following else None
            yield _Page(records, rejects, {"next": stored, "skip": 0})
            if following is None:
                return
            if following.state() == request.state():
                raise SourceError(
                    f"{self.config.name}: the API pointed at the page just read as the next one",
                    "check the stream's `paginator` (kind, token path, parameter name)",
                )
            request = following

    def _refuse_errors(self, body: Any) -> None:
        if not self.options.errors_path:
            return
        errors = dig(body, self.options.errors_path)
        if errors in (None, [], {}, ""):
            return
        first = errors[0] if isinstance(errors, list) else errors
        message = first.get("message", first) if isinstance(first, dict) else first
        raise SourceError(
            f"{self.config.name}: the API answered with errors: {str(message)[:300]}",
            f"check the stream's `body` (its query) and `fields` in the {self.client.source} source file",
        )

    def _records_of(self, body: Any) -> list[Any]:
        found = dig(body, self.options.records_path)
        if isinstance(found, dict) and self.options.dict_key_field:
            key = self.options.dict_key_field
            return [{key: name, **value} if isinstance(value, dict) else value for name, value in found.items()]
        return _as_list(found)

    def _enriched(self, record: dict[str, Any]) -> dict[str, Any]:
        for extra in self.options.enrich:
            record = self._enrich(record, extra)
        return record

    def _enrich(self, record: dict[str, Any], extra: EnrichOptions) -> dict[str, Any]:
        names = {f"record.{key}": value for key, value in _flat(record).items()}
        request = Request("GET", render(extra.path, names), render(extra.params, names))
        found = dig(self.client.send(request).json(), extra.records_path)
        if extra.skip_empty and found in (None, [], {}):
            return record
        if not extra.into:
            return found if isinstance(found, dict) else record
        record = json.loads(json.dumps(record))
        put(record, extra.into, found)
        return record

    # --- exports: JSON Lines (Mixpanel) and zipped, gzipped JSON Lines (Amplitude) -------------

    def _export(self, request: Request, skip: int) -> Iterator[_Page]:
        body = self.client.download(request)
        if self.options.response == "zip_gzip_jsonl" and _empty(body):
            yield _Page([], [], {"next": None, "skip": 0})
            return
        lines = _zip_lines(body) if self.options.response == "zip_gzip_jsonl" else iter(body)
        position, chunk = 0, []
        for line in lines:
            position += 1
            if position <= skip or not line.strip():
                continue
            chunk.append(line)
            if len(chunk) == self.page_size:
                records, rejects = _parse_lines(chunk, _origin(request))
                yield _Page(records, rejects, {"next": request.state(), "skip": position})
                chunk = []
        records, rejects = _parse_lines(chunk, _origin(request))
        yield _Page(records, rejects, {"next": None, "skip": 0})

    # --- Salesforce Bulk API 2.0 ------------------------------------------------------------------

    def _bulk(self, run: dict[str, Any]) -> Iterator[_Page]:
        bulk = self.options.bulk
        assert bulk is not None
        names = self._names(run)
        job = (run.get("bulk") or {}).get("job")
        if job is None:
            created = self.client.send(
                Request("POST", bulk.path, {}, {"operation": "query", "query": render(bulk.query, names)})
            ).json()
            job = created["id"]
            self._await_job(f"{bulk.path}/{job}")
        locator = (run.get("bulk") or {}).get("locator")
        while True:
            params: dict[str, Any] = {"maxRecords": self.page_size}
            if locator:
                params["locator"] = locator
            response = self.client.send(Request("GET", f"{bulk.path}/{job}/results", params))
            records = [_typed_csv_row(row, bulk.drop_columns) for row in csv.DictReader(io.StringIO(response.text))]
            locator = response.headers.get("Sforce-Locator")
            done = not locator or locator == "null"
            position = None if done else {"job": job, "locator": locator}
            yield _Page(records, [], {"next": None, "skip": 0, "bulk": position}, final=done)
            if done:
                return

    def _await_job(self, path: str) -> None:
        bulk = self.options.bulk
        assert bulk is not None
        for poll in range(bulk.max_polls):
            state = self.client.send(Request("GET", path)).json().get("state")
            if state == "JobComplete":
                return
            if state in ("Failed", "Aborted"):
                raise SourceError(
                    f"{self.config.name}: the Bulk API query job ended {state}",
                    "check the stream's `bulk.query` (run it in the Salesforce query editor)",
                )
            self.client.policy.sleep(min(bulk.poll_seconds, 0.1 * 2**poll))
        raise SourceError(
            f"{self.config.name}: the Bulk API query job did not finish after {bulk.max_polls} polls",
            "raise `bulk.max_polls` or run the load again later (the job is created anew)",
        )


def _typed_csv_row(row: dict[str, str], drop: list[str]) -> dict[str, Any]:
    """Bulk CSV values typed by their text: true/false, numbers that round-trip, empty is null."""
    typed: dict[str, Any] = {}
    for key, text in row.items():
        if key in drop:
            continue
        if text == "":
            typed[key] = None
        elif text in ("true", "false"):
            typed[key] = text == "true"
        elif _NUMBER.match(text) and (str(int(text)) == text if "." not in text else repr(float(text)) == text):
            typed[key] = int(text) if "." not in text else float(text)
        else:
            typed[key] = text
    return typed


def _parse_lines(lines: list[bytes], origin: str) -> tuple[list[dict[str, Any]], list[Rejected]]:
    records, rejects = [], []
    for line in lines:
        text = line.decode("utf-8", errors="replace").strip()
        try:
            value = json.loads(text)
        except ValueError as exc:
            rejects.append(Rejected(f"malformed JSON: {exc}", text, origin))
            continue
        if isinstance(value, dict):
            records.append(value)
        else:
            rejects.append(Rejected(f"a JSON line must hold an object, not {type(value).__name__}", text, origin))
    return records, rejects


def _zip_lines(body: IO[bytes]) -> Iterator[bytes]:
    with zipfile.ZipFile(body) as archive:
        for name in sorted(archive.namelist()):
            with archive.open(name) as member:
                stream = gzip.GzipFile(fileobj=member) if name.endswith(".gz") else member
                yield from stream


def _empty(body: IO[bytes]) -> bool:
    start = body.read(4)
    body.seek(0)
    return not start


def _json_body(response: Any, stream: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise SourceError(
            f"{stream}: the API answered {response.status_code} with a body that is not JSON",
            "check the stream's `path` and `response` (jsonl and zip_gzip_jsonl are for exports)",
        ) from None


def _as_list(found: Any) -> list[Any]:
    if found is None:
        return []
    return found if isinstance(found, list) else [found]


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        flat[name] = value
        if isinstance(value, dict):
            flat |= _flat(value, f"{name}.")
    return flat


def _origin(request: Request) -> str:
    return f"{request.method} {request.url}"
