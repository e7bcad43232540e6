"""A stand-in for Airbyte's public API (no Airbyte server can run here): the subset the SDK calls.

Sources, destinations and connections (list with workspace/limit/offset, get, create, patch, delete)
and jobs (create, get, cancel), kept in memory, on a free loopback port. Every request body is
validated with `jsonschema` against the JSON schema of the `airbyte-api` SDK model for that request
(the SDK is generated from Airbyte's published OpenAPI document); a source's or destination's
`configuration` against its connector's own model (`SourceFaker`, `DestinationS3`, ...). An invalid
body is answered 422 and recorded in `invalid`, which the tests assert is empty. Secrets are masked
in responses, as Airbyte does. Jobs go pending -> running -> succeeded over `job_polls` reads; a
connection named in `failing` fails, one in `hanging` never ends.
"""

from __future__ import annotations

import json
import threading
import typing
import uuid
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import jsonschema
from airbyte_api import models

SECRET_KEYS = ("password", "secret", "token", "access_key", "api_key")
MASK = "**********"


@cache
def _schema(model: type) -> dict[str, Any]:
    return model.model_json_schema(by_alias=True)


@cache
def _connectors(kind: str) -> dict[str, type]:
    union = models.SourceConfiguration if kind == "source" else models.DestinationConfiguration
    key = "sourceType" if kind == "source" else "destinationType"
    out = {}
    while not typing.get_args(union) and hasattr(union, "__value__"):  # a type alias
        union = union.__value__
    while typing.get_origin(union) is typing.Annotated or hasattr(union, "__metadata__"):
        union = typing.get_args(union)[0]
        union = getattr(union, "__value__", union)
    for member in typing.get_args(union):
        for name, info in member.model_fields.items():
            if (info.alias or name) == key and info.default is not None:
                out[str(getattr(info.default, "value", info.default))] = member
    return out


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if any(s in k.lower() for s in SECRET_KEYS) else _mask(v) for k, v in value.items()}
    return value


@dataclass
class Store:
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    destinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    hanging: set[str] = field(default_factory=set)
    job_polls: int = 2
    token: str = "stand-in-token"


class LoopbackHttpServer:
    """An in-memory HTTP stand-in on a free loopback port, served from a thread: `handler` is a
    `BaseHTTPRequestHandler` class whose requests see `store` as `self.store`."""

    def __init__(self, handler: type[BaseHTTPRequestHandler], store: Any) -> None:
        self.store = store
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (handler,), {"store": store}))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def start(self) -> typing.Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class AirbyteApiServer(LoopbackHttpServer):
    store: Store

    def __init__(self) -> None:
        super().__init__(_Handler, Store())

    @property
    def url(self) -> str:
        return f"{self.origin}/api/public/v1"


class _Handler(BaseHTTPRequestHandler):
    store: Store

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        self._route("GET")

    def do_POST(self) -> None:
        self._route("POST")

    def do_PATCH(self) -> None:
        self._route("PATCH")

    def do_DELETE(self) -> None:
        self._route("DELETE")

    def _route(self, method: str) -> None:
        url = urlparse(self.path)
        parts = url.path.removeprefix("/api/public/v1").strip("/").split("/")
        self.store.requests.append((method, "/".join(parts)))
        if self.headers.get("Authorization") != f"Bearer {self.store.token}":
            return self._send(401, {"message": "unauthorized"})
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        kind, ident = parts[0], parts[1] if len(parts) > 1 else None
        try:
            if kind == "jobs":
                return self._jobs(method, ident, body)
            if kind in ("sources", "destinations", "connections"):
                return self._resources(kind, method, ident, body, parse_qs(url.query))
        except jsonschema.ValidationError as exc:
            self.store.invalid.append(f"{method} {url.path}: {exc.message}")
            return self._send(422, {"message": exc.message})
        self._send(404, {"message": "not found"})

    def _resources(self, kind: str, method: str, ident: str | None, body: Any, query: dict[str, list[str]]) -> None:
        table: dict[str, dict[str, Any]] = getattr(self.store, kind)
        if method == "GET" and ident is None:
            workspaces = set(query.get("workspaceIds", [])) or None
            rows = [r for r in table.values() if workspaces is None or r["workspaceId"] in workspaces]
            offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["20"])[0])
            return self._send(200, {"data": [self._shown(kind, r) for r in rows[offset : offset + limit]]})
        if method == "POST" and ident is None:
            self._validate(kind, "create", body)
            row = self._new(kind, body)
            table[row[_id_key(kind)]] = row
            return self._send(200, self._shown(kind, row))
        if ident not in table:
            return self._send(404, {"message": f"{kind} {ident} not found"})
        if method == "GET":
            return self._send(200, self._shown(kind, table[ident]))
        if method == "PATCH":
            self._validate(kind, "patch", body)
            table[ident].update({k: v for k, v in body.items() if v is not None})
            return self._send(200, self._shown(kind, table[ident]))
        if method == "DELETE":
            del table[ident]
            return self._send(204, None)
        return self._send(405, {"message": "method not allowed"})

    def _validate(self, kind: str, action: str, body: Any) -> None:
        requests = {
            ("connections", "create"): models.ConnectionCreateRequest,
            ("connections", "patch"): models.ConnectionPatchRequest,
        }
        if (kind, action) in requests:
            jsonschema.validate(body, _schema(requests[(kind, action)]))
            return
        singular = kind.removesuffix("s")
        required = ["name", "configuration"] + (["workspaceId"] if action == "create" else [])
        envelope = {"type": "object", "required": required, "properties": {"name": {"type": "string"}}}
        jsonschema.validate(body, envelope)
        key = "sourceType" if singular == "source" else "destinationType"
        connector = _connectors(singular).get(body["configuration"].get(key))
        if connector is None:
            raise jsonschema.ValidationError(f"unknown {key} {body['configuration'].get(key)!r}")
        jsonschema.validate(body["configuration"], _schema(connector))

    def _new(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        row = {**body, _id_key(kind): str(uuid.uuid4()), "createdAt": 1_764_000_000}
        if kind == "sources":
            row |= {"sourceType": body["configuration"]["sourceType"], "definitionId": str(uuid.uuid4())}
        elif kind == "destinations":
            row |= {"destinationType": body["configuration"]["destinationType"], "definitionId": str(uuid.uuid4())}
        else:
            source = self.store.sources.get(body["sourceId"], {})
            row |= {"workspaceId": source.get("workspaceId", ""), "tags": [], "status": body.get("status", "active")}
            row.setdefault("schedule", {"scheduleType": "manual"})
            row.setdefault("configurations", {"streams": []})
        return row

    def _shown(self, kind: str, row: dict[str, Any]) -> dict[str, Any]:
        return {**row, "configuration": _mask(row["configuration"])} if kind != "connections" else row

    def _jobs(self, method: str, ident: str | None, body: Any) -> None:
        if method == "POST" and ident is None:
            jsonschema.validate(body, _schema(models.JobCreateRequest))
            connection = self.store.connections.get(body["connectionId"])
            if connection is None:
                return self._send(404, {"message": "connection not found"})
            job_id = len(self.store.jobs) + 1
            job = {"jobId": job_id, "status": "pending", "jobType": "sync", "connectionId": body["connectionId"]}
            self.store.jobs[job_id] = {
                **job,
                "startTime": "2026-11-24T00:00:00Z",
                "polls": 0,
                "name": connection["name"],
            }
            return self._send(200, self._job(job_id))
        job = self.store.jobs.get(int(ident or 0))
        if job is None:
            return self._send(404, {"message": "job not found"})
        if method == "DELETE":
            job["status"] = "cancelled"
            return self._send(200, self._job(job["jobId"]))
        job["polls"] += 1
        if job["status"] in ("pending", "running") and job["name"] not in self.store.hanging:
            if job["polls"] >= self.store.job_polls:
                job["status"] = "failed" if job["name"] in self.store.failing else "succeeded"
            else:
                job["status"] = "running"
        job["rowsSynced"] = 10 * job["polls"]
        return self._send(200, self._job(job["jobId"]))

    def _job(self, job_id: int) -> dict[str, Any]:
        return {k: v for k, v in self.store.jobs[job_id].items() if k not in ("polls", "name")}

    def _send(self, status: int, body: Any) -> None:
        payload = b"" if body is None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _id_key(kind: str) -> str:
    return {"sources": "sourceId", "destinations": "destinationId", "connections": "connectionId"}[kind]
