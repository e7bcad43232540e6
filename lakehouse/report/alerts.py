"""`lakehouse alerts`: failed tests, errored models and anomalies, posted to a Slack-style webhook.

One message per owner (`meta.owner` of the test, else of its model), so each team sees its own
problems. The payload is Slack's incoming-webhook format, `{"text": ..., "blocks": [...]}`; the
failing-row samples it quotes were written without personal-data columns by the dbt hook.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lakehouse.core.errors import LakehouseError
from lakehouse.report.store import ANOMALY_TESTS, ObservabilityStore

UNOWNED = "no owner"
MAX_BLOCKS = 48  # Slack accepts 50 blocks per message
MAX_TEXT = 2900  # and 3000 characters per section


@dataclass(frozen=True)
class Alert:
    kind: str  # anomaly | test failure | test warning | test error | model error
    owner: str | None
    name: str
    model: str | None
    status: str
    summary: str
    detail: str | None = None


def collect_alerts(
    store: ObservabilityStore, invocation_id: str | None = None, *, include_warnings: bool = False
) -> tuple[dict[str, Any] | None, list[Alert]]:
    """The invocation (the latest one by default) and what went wrong in it."""
    invocations = store.invocations(limit=200)
    if invocation_id is not None:
        invocations = [i for i in invocations if i["invocation_id"] == invocation_id]
        if not invocations:
            raise LakehouseError(
                f"no invocation {invocation_id} in {store.schema}.dbt_invocations",
                "run `lakehouse report` to see recent invocations, or leave out --invocation for the latest",
            )
    else:
        invocations = [i for i in invocations if i["command"] != "freshness"] or invocations
    if not invocations:
        return None, []
    invocation = invocations[0]
    alerts = [*_test_alerts(store, invocation, include_warnings), *_model_alerts(store, invocation)]
    return invocation, alerts


def _test_alerts(store: ObservabilityStore, invocation: dict, include_warnings: bool) -> list[Alert]:
    statuses = {"fail", "error"} | ({"warn"} if include_warnings else set())
    alerts = []
    for row in store.test_results([invocation["invocation_id"]]):
        if row["status"] not in statuses:
            continue
        sample = _sample(row.get("failing_rows_sample"))
        where = f"`{row.get('model_name') or '?'}`" + (f".`{row['column_name']}`" if row.get("column_name") else "")
        if row["test_name"] in ANOMALY_TESTS and row["status"] != "error":
            kind = "anomaly"
            summary = f"*{row['test_name']}* on {where}: " + "; ".join(_describe_anomaly(s) for s in sample[:3])
        else:
            kind = {"fail": "test failure", "warn": "test warning"}.get(row["status"], "test error")
            failures = f"{row['failures']} failing row(s)" if row["status"] != "error" else "the test could not run"
            summary = f"*{row['test_name']}* on {where}: {failures}"
        detail = None
        if row["status"] == "error":
            detail = _first_lines(row.get("message") or "")
        elif sample and kind != "anomaly":
            detail = "\n".join(json.dumps(s, sort_keys=True) for s in sample[:3])
        alerts.append(
            Alert(kind, row.get("owner"), row["test_name"], row.get("model_name"), row["status"], summary, detail)
        )
    return alerts


def _model_alerts(store: ObservabilityStore, invocation: dict) -> list[Alert]:
    errored = [r for r in store.run_results([invocation["invocation_id"]]) if r["status"] == "error"]
    if not errored:
        return []
    owners = {m["unique_id"]: m.get("owner") for m in store.latest_models()}
    return [
        Alert(
            "model error",
            owners.get(r["unique_id"]),
            r["name"],
            r["name"],
            r["status"],
            f"*model* `{r['name']}` failed to build",
            _first_lines(r.get("message") or ""),
        )
        for r in errored
    ]


def group_by_owner(alerts: list[Alert]) -> dict[str, list[Alert]]:
    groups: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        groups[alert.owner or UNOWNED].append(alert)
    return dict(sorted(groups.items()))


def slack_payloads(invocation: dict[str, Any], alerts: list[Alert]) -> list[dict[str, Any]]:
    """One message per owner (more when an owner has more alerts than a message holds)."""
    payloads = []
    when = invocation["run_started_at"].strftime("%Y-%m-%d %H:%M UTC") if invocation.get("run_started_at") else "?"
    for owner, owned in group_by_owner(alerts).items():
        counts = defaultdict(int)
        for alert in owned:
            counts[alert.kind] += 1
        tally = ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in sorted(counts.items()))
        text = f"Lakehouse: {tally} for {owner} in dbt {invocation['command']} ({invocation['target_name']}, {when})"
        sections = [_section(alert) for alert in owned]
        per_message = MAX_BLOCKS - 3
        for start in range(0, len(sections), per_message):
            blocks = [
                {"type": "header", "text": {"type": "plain_text", "text": f"Data alerts for {owner}"[:150]}},
                {
                    "type": "context",
                    "elements": [
                        {
                            "type": "mrkdwn",
                            "text": f"dbt {invocation['command']} · target {invocation['target_name']} · {when} · "
                            f"invocation `{invocation['invocation_id']}`",
                        }
                    ],
                },
                *sections[start : start + per_message],
                {"type": "divider"},
            ]
            payloads.append({"text": text, "blocks": blocks, "owner": owner})
    return payloads


def post_payload(webhook: str, payload: dict[str, Any], *, attempts: int = 3, sleep: Callable = time.sleep) -> None:
    """POST one message; retries on 429 and 5xx, honouring Retry-After (capped at 30 s)."""
    body = json.dumps({k: v for k, v in payload.items() if k != "owner"}).encode()
    request = urllib.request.Request(webhook, data=body, headers={"Content-Type": "application/json"}, method="POST")
    for attempt in range(1, attempts + 1):
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                response.read()
                return
        except urllib.error.HTTPError as exc:
            if (exc.code != 429 and exc.code < 500) or attempt == attempts:
                raise LakehouseError(
                    f"the alert webhook answered HTTP {exc.code} {exc.reason}",
                    "check the webhook URL (LAKEHOUSE_ALERT_WEBHOOK or --webhook) and that it is still enabled",
                ) from None
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            sleep(min(float(retry_after), 30.0) if retry_after and retry_after.isdigit() else 2.0 * attempt)
        except urllib.error.URLError as exc:
            if attempt == attempts:
                raise LakehouseError(
                    f"cannot reach the alert webhook ({exc.reason})",
                    "check the webhook URL and the network from this machine",
                ) from None
            sleep(2.0 * attempt)


def _section(alert: Alert) -> dict[str, Any]:
    icon = {"anomaly": ":chart_with_downwards_trend:", "test warning": ":warning:"}.get(alert.kind, ":red_circle:")
    text = f"{icon} {alert.summary}"
    if alert.detail:
        text += f"\n```{alert.detail}```"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def _sample(raw: str | None) -> list[dict]:
    try:
        rows = json.loads(raw) if raw else []
    except json.JSONDecodeError:
        return []
    return [r for r in rows if isinstance(r, dict)]


def _describe_anomaly(row: dict) -> str:
    def number(key: str) -> str:
        try:
            value = float(row.get(key))
        except (TypeError, ValueError):
            return "?"
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.2f}"

    what = row.get("metric_name", "metric") + (f" [{row['dimension_value']}]" if row.get("dimension_value") else "")
    return (
        f"{what} {number('metric_value')} in the bucket of {str(row.get('bucket_start', '?'))[:16]} "
        f"(expected {number('min_expected')} to {number('max_expected')}, z {number('z_score')})"
    )


def _first_lines(message: str, count: int = 3) -> str:
    return "\n".join(message.strip().splitlines()[:count])[:600]
