"""The 2-hour SLA and the alerts: freshness checks on the marts, run-failure and SLA-miss messages.

A mart's SLA is the most urgent one of the streams it reads (`Frequency.sla_hours`): 2 hours for a mart
fed by a real-time or hourly source, one period plus slack for the others, as `lakehouse report`
judges sources. Dagster's last-update freshness checks show it on each mart; the `sla_alerts` sensor
posts a message when a mart is overdue, once per overdue materialization.

Alerts go to the webhook of `lakehouse alerts` (LAKEHOUSE_ALERT_WEBHOOK, Slack's incoming-webhook
format), posted by its own `post_payload` (retries on 429/5xx). Without a webhook, sensors log and skip.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import defaultdict
from datetime import timedelta
from typing import Any

from dagster import (
    AssetChecksDefinition,
    AssetKey,
    DefaultSensorStatus,
    RunFailureSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    build_last_update_freshness_checks,
    build_sensor_for_freshness_checks,
    run_failure_sensor,
    sensor,
)
from dagster._utils.warnings import SupersessionWarning

from lakehouse.report.alerts import post_payload

WEBHOOK_VARIABLE = "LAKEHOUSE_ALERT_WEBHOOK"
MAX_TEXT = 2900  # Slack's limit per section is 3000 characters


def webhook_url() -> str | None:
    return os.environ.get(WEBHOOK_VARIABLE) or None


def freshness_checks(slas: dict[AssetKey, float]) -> list[AssetChecksDefinition]:
    """Last-update freshness checks, one set per SLA length."""
    by_hours: dict[float, list[AssetKey]] = defaultdict(list)
    for key, hours in slas.items():
        by_hours[hours].append(key)
    checks: list[AssetChecksDefinition] = []
    with warnings.catch_warnings():  # Dagster 1.13 prefers FreshnessPolicy; these checks still run as checks
        warnings.simplefilter("ignore", SupersessionWarning)
        for hours, keys in sorted(by_hours.items()):
            checks += build_last_update_freshness_checks(assets=sorted(keys), lower_bound_delta=timedelta(hours=hours))
    return checks


def freshness_sensor(checks: list[AssetChecksDefinition]) -> SensorDefinition:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SupersessionWarning)
        return build_sensor_for_freshness_checks(
            freshness_checks=checks, minimum_interval_seconds=600, default_status=DefaultSensorStatus.RUNNING
        )


def run_failure_payload(context: RunFailureSensorContext) -> dict[str, Any]:
    """The failed run: its job, id, and each failed step (an asset's load or the dbt build) with its error."""
    run = context.dagster_run
    failures = []
    for event in context.get_step_failure_events():
        error = getattr(event.event_specific_data, "error", None)
        message = _first_lines(root_cause(error) if error is not None else event.message or "")
        failures.append(f"*{event.step_key}*: {message}")
    if not failures:
        failures.append(_first_lines(context.failure_event.message or "the run failed before its steps started"))
    text = f"Lakehouse: run {run.run_id[:8]} of {run.job_name} failed ({len(failures)} failed step(s))"
    sections = [_section(f":red_circle: {failure}") for failure in failures[:45]]
    return {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Lakehouse run failed"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"job `{run.job_name}` · run `{run.run_id}`"}]},
            *sections,
        ],
    }


def root_cause(error) -> str:
    """The innermost error's message: after retries Dagster's own is only "Exceeded max_retries"."""
    while error.cause is not None:
        error = error.cause
    return error.message


@run_failure_sensor(name="run_failure_alerts", default_status=DefaultSensorStatus.RUNNING)
def run_failure_alerts(context: RunFailureSensorContext) -> None:
    """Post every failed run (after its retries) to the alert webhook."""
    webhook = webhook_url()
    if webhook is None:
        context.log.info(f"run {context.dagster_run.run_id} failed; no {WEBHOOK_VARIABLE} to alert")
        return
    post_payload(webhook, run_failure_payload(context))


def overdue(
    context: SensorEvaluationContext, slas: dict[AssetKey, float], now: float
) -> list[tuple[AssetKey, float, float | None]]:
    """(asset, SLA hours, last materialization time) of every asset older than its SLA."""
    late = []
    for key, hours in sorted(slas.items()):
        record = context.instance.get_latest_materialization_event(key)
        last = record.timestamp if record is not None else None
        if last is None or now - last > hours * 3600:
            late.append((key, hours, last))
    return late


def sla_payload(late: list[tuple[AssetKey, float, float | None]], now: float) -> dict[str, Any]:
    lines = []
    for key, hours, last in late:
        age = "never built" if last is None else f"last built {(now - last) / 3600:.1f} h ago"
        lines.append(f":hourglass: *{key.to_user_string()}*: {age} (SLA {hours:g} h)")
    text = f"Lakehouse: {len(late)} mart(s) past their freshness SLA"
    return {
        "text": text,
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": "Lakehouse SLA missed"}},
            *[_section(line) for line in lines[:45]],
        ],
    }


def sla_alert_sensor(slas: dict[AssetKey, float]) -> SensorDefinition:
    """Every 10 minutes: post the marts that became overdue since the last post (cursor: what was sent)."""

    @sensor(name="sla_alerts", minimum_interval_seconds=600, default_status=DefaultSensorStatus.RUNNING)
    def sla_alerts(context: SensorEvaluationContext):
        now = time.time()
        sent = json.loads(context.cursor) if context.cursor else {}
        late = overdue(context, slas, now)
        new = [(key, hours, last) for key, hours, last in late if sent.get(key.to_user_string(), -1) != last]
        if not new:
            return SkipReason(f"{len(late)} overdue asset(s), all already alerted" if late else "every mart is fresh")
        webhook = webhook_url()
        if webhook is None:
            return SkipReason(f"{len(new)} mart(s) overdue; no {WEBHOOK_VARIABLE} to alert")
        post_payload(webhook, sla_payload(new, now))
        context.update_cursor(json.dumps({key.to_user_string(): last for key, _, last in late}))
        return SkipReason(f"alerted {len(new)} overdue mart(s)")

    return sla_alerts


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def _first_lines(message: str, count: int = 3) -> str:
    return "\n".join(message.strip().splitlines()[:count])[:600]
