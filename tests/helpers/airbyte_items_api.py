"""A small paged, time-filtered HTTP API on a free loopback port, and an Airbyte low-code manifest for it.

The manifest runs in Airbyte's own declarative runtime (`airbyte-source-declarative-manifest` from PyPI,
the runner of Airbyte's manifest-only connectors): one incremental stream, `items`, with a
`DatetimeBasedCursor` on `updated_at` cut into one-day slices (one STATE message per day) and pages of
`page_size` records inside a slice. The API answers `GET /items?since=&until=&page=&per_page=` with the
records whose `updated_at` falls in [since, until], ordered by (`updated_at`, `id`), so the same
request always gives the same records in the same order. Every request is recorded, for tests that
assert what a run asked for; `delay_s` slows each answer down, for tests that SIGKILL a load mid-read.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.helpers.airbyte_api_server import LoopbackHttpServer

FORMAT = "%Y-%m-%dT%H:%M:%SZ"
PIN = "airbyte-source-declarative-manifest==6.5.2"


@dataclass
class ItemsStore:
    items: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)
    delay_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_days(self, first_day: datetime, days: int, per_day: int) -> None:
        """`per_day` new items on each of `days` days from `first_day`, ids continuing from the last."""
        with self.lock:
            next_id = len(self.items) + 1
            for day in range(days):
                for n in range(per_day):
                    at = first_day + timedelta(days=day, hours=n * 23 // per_day, minutes=n)
                    self.items.append({"id": next_id, "updated_at": at.strftime(FORMAT), "name": f"item {next_id}"})
                    next_id += 1


class ItemsApi(LoopbackHttpServer):
    store: ItemsStore

    def __init__(self) -> None:
        super().__init__(_Handler, ItemsStore())

    @property
    def url(self) -> str:
        return self.origin


class _Handler(BaseHTTPRequestHandler):
    store: ItemsStore

    def log_message(self, *args: Any) -> None:  # quiet
        return

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if url.path != "/items":
            return self._send(404, {"message": "not found"})
        try:
            since, until = (datetime.strptime(query[key], FORMAT) for key in ("since", "until"))
            page, per_page = int(query.get("page", "1")), int(query.get("per_page", "5"))
        except (KeyError, ValueError):
            return self._send(400, {"message": "since and until (YYYY-MM-DDTHH:MM:SSZ), page, per_page"})
        with self.store.lock:
            self.store.requests.append(query)
            matching = sorted(
                (i for i in self.store.items if since <= datetime.strptime(i["updated_at"], FORMAT) <= until),
                key=lambda item: (item["updated_at"], item["id"]),
            )
        if self.store.delay_s:
            threading.Event().wait(self.store.delay_s)
        self._send(200, {"data": matching[(page - 1) * per_page : page * per_page]})

    def _send(self, status: int, body: Any) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def manifest(page_size: int = 5) -> dict[str, Any]:
    """The low-code manifest: one incremental stream over the API, a slice per day."""
    request = {"type": "RequestOption", "inject_into": "request_parameter"}
    return {
        "version": "6.5.0",
        "type": "DeclarativeSource",
        "check": {"type": "CheckStream", "stream_names": ["items"]},
        "streams": [
            {
                "type": "DeclarativeStream",
                "name": "items",
                "primary_key": ["id"],
                "schema_loader": {
                    "type": "InlineSchemaLoader",
                    "schema": {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "updated_at": {"type": "string", "format": "date-time"},
                            "name": {"type": "string"},
                        },
                    },
                },
                "retriever": {
                    "type": "SimpleRetriever",
                    "requester": {
                        "type": "HttpRequester",
                        "url_base": "{{ config['api_url'] }}",
                        "path": "/items",
                        "http_method": "GET",
                    },
                    "record_selector": {
                        "type": "RecordSelector",
                        "extractor": {"type": "DpathExtractor", "field_path": ["data"]},
                    },
                    "paginator": {
                        "type": "DefaultPaginator",
                        "pagination_strategy": {"type": "PageIncrement", "page_size": page_size, "start_from_page": 1},
                        "page_size_option": {**request, "field_name": "per_page"},
                        "page_token_option": {**request, "field_name": "page"},
                    },
                },
                "incremental_sync": {
                    "type": "DatetimeBasedCursor",
                    "cursor_field": "updated_at",
                    "datetime_format": FORMAT,
                    "start_datetime": "{{ config['start_date'] }}",
                    "end_datetime": "{{ config['end_date'] }}",
                    "step": "P1D",
                    "cursor_granularity": "PT1S",
                    "start_time_option": {**request, "field_name": "since"},
                    "end_time_option": {**request, "field_name": "until"},
                },
            }
        ],
        "spec": {
            "type": "Spec",
            "connection_specification": {
                "type": "object",
                "required": ["api_url", "start_date", "end_date"],
                "properties": {
                    "api_url": {"type": "string"},
                    "start_date": {"type": "string"},
                    "end_date": {"type": "string"},
                },
            },
        },
    }


def day(n: int) -> datetime:
    """Day `n` (1-based) of January 2024, the test data's calendar."""
    return datetime(2024, 1, n, tzinfo=UTC)
