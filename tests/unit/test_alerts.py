"""Alerts: failures and anomalies grouped per owner, posted to a Slack-style webhook (a local receiver)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lakehouse.core.errors import LakehouseError
from lakehouse.report.alerts import UNOWNED, Alert, post_payload, slack_payloads

INVOCATION = {
    "invocation_id": "inv-1",
    "command": "build",
    "target_name": "local",
    "run_started_at": datetime(2026, 3, 1, 6, 0, tzinfo=UTC),
}
ALERTS = [
    Alert(
        "anomaly", "sales-analytics", "volume_anomalies", "fct_orders", "fail",
        "*volume_anomalies* on `fct_orders`: row_count 20 in the bucket of 2026-02-28 (expected 88 to 113, z -19.18)",
    ),
    Alert("test failure", "sales-analytics", "not_null", "fct_orders", "fail", "*not_null* on `fct_orders`: 2 rows"),
    Alert("test failure", "crm-team", "unique", "dim_customers", "fail", "*unique* on `dim_customers`: 1 row", '{}'),
    Alert("model error", None, "slv_refunds", "slv_refunds", "error", "*model* `slv_refunds` failed", "Database Error"),
]  # fmt: skip


class Receiver:
    """An incoming-webhook stand-in on a free loopback port that records what it is sent."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.received: list[dict] = []
        self.answers = list(answers or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                code = receiver.answers.pop(0) if receiver.answers else 200
                if code == 200:
                    receiver.received.append(json.loads(body))
                self.send_response(code)
                if code == 429:
                    self.send_header("Retry-After", "1")
                self.end_headers()
                self.wfile.write(b"ok" if code == 200 else b"no")

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/XXXX"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def test_one_message_per_owner_with_every_alert_of_that_owner() -> None:
    payloads = slack_payloads(INVOCATION, ALERTS)
    by_owner = {p["owner"]: p for p in payloads}
    assert sorted(by_owner) == ["crm-team", "no owner", "sales-analytics"]
    sales = by_owner["sales-analytics"]
    assert sales["text"].startswith("Lakehouse: 1 anomaly, 1 test failure for sales-analytics in dbt build")
    sections = [b["text"]["text"] for b in sales["blocks"] if b["type"] == "section"]
    assert len(sections) == 2
    assert any("volume_anomalies" in s and "expected 88 to 113" in s for s in sections)
    assert sales["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Data alerts for sales-analytics"},
    }
    assert "slv_refunds" in json.dumps(by_owner[UNOWNED]) and "slv_refunds" not in json.dumps(sales)


def test_an_owner_with_many_alerts_gets_several_messages_within_slack_limits() -> None:
    many = [Alert("test failure", "big-team", f"t{i}", "m", "fail", f"*t{i}* failed") for i in range(100)]
    payloads = slack_payloads(INVOCATION, many)
    assert len(payloads) == 3
    assert all(len(p["blocks"]) <= 50 for p in payloads)
    assert sum(1 for p in payloads for b in p["blocks"] if b["type"] == "section") == 100


def test_posting_sends_slack_json_to_the_webhook(receiver: Receiver) -> None:
    for payload in slack_payloads(INVOCATION, ALERTS):
        post_payload(receiver.url, payload)
    assert len(receiver.received) == 3
    assert all(set(message) == {"text", "blocks"} for message in receiver.received)


def test_rate_limits_and_server_errors_are_retried() -> None:
    waits: list[float] = []
    with Receiver(answers=[429, 503, 200]) as receiver:
        post_payload(receiver.url, slack_payloads(INVOCATION, ALERTS[:1])[0], sleep=waits.append)
    assert len(receiver.received) == 1
    assert waits == [1.0, 4.0]  # Retry-After first, then backoff


def test_a_rejected_webhook_is_an_error_naming_the_fix() -> None:
    with Receiver(answers=[404]) as receiver, pytest.raises(LakehouseError) as caught:
        post_payload(receiver.url, slack_payloads(INVOCATION, ALERTS[:1])[0], sleep=lambda _: None)
    assert "HTTP 404" in caught.value.cause
    assert "LAKEHOUSE_ALERT_WEBHOOK" in caught.value.fix
