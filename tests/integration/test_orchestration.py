"""The scheduler (orchestration/): one Dagster asset graph from every loader stream to every mart.

- the graph: every stream is a loader asset, every dbt source on bronze resolves to one, each frequency's
  job selects its streams and the models downstream, the marts carry SLA freshness checks;
- a load that keeps failing is retried with backoff, then the run-failure sensor posts to the webhook
  (a local HTTP server), and the models downstream of it do not run;
- `lakehouse orchestrate dev` serves the UI: headless Chromium renders the marts' lineage;
- end to end on the shared company lakehouse: every loader asset plus the dbt assets up to `fct_orders`.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml
from dagster import (
    AssetKey,
    AssetSelection,
    Backoff,
    DagsterEventType,
    DagsterInstance,
    Definitions,
    RetryPolicy,
    RunConfig,
    build_run_status_sensor_context,
    materialize,
)

from lakehouse.core.frequency import Frequency
from lakehouse.source_files import DEFAULT_SOURCES_DIR, all_sources
from loaders.core.config import load_source_config
from orchestration.alerts import run_failure_alerts
from orchestration.bronze import bronze_key, stream_frequency
from orchestration.dbt import DbtBuildConfig, dbt_resource
from orchestration.definitions import build_definitions
from tests.helpers.company_lakehouse import BUILD_VARS, EXCLUDED, CompanyLakehouse
from tests.helpers.spark import PROJECT_DIR, free_port
from tests.integration.test_report import CHROMIUM_FLAGS, chromium

FCT_ORDERS = AssetKey(["sales", "fct_orders"])
STG_ORDERS = AssetKey(["staging", "stg_shopify__orders"])


@pytest.fixture(scope="module")
def defs() -> Definitions:
    return build_definitions()


def dbt_assets_of(defs: Definitions):
    return next(a for a in defs.assets if getattr(a, "op", None) is not None and a.op.name == "lakehouse_dbt")


def loader_keys(defs: Definitions) -> list[AssetKey]:
    return [key for a in defs.assets for key in a.keys if key.path[0] == "bronze"]


def ancestors(defs: Definitions, key: AssetKey) -> set[AssetKey]:
    graph = defs.resolve_asset_graph()
    found, stack = set(), [key]
    while stack:
        for parent in graph.get(stack.pop()).parent_keys:
            if parent not in found:
                found.add(parent)
                stack.append(parent)
    return found


def test_every_stream_and_model_is_one_asset_graph(defs: Definitions) -> None:
    streams = {bronze_key(c.source, s.name): stream_frequency(c, s) for c in all_sources() for s in c.streams}
    assert set(loader_keys(defs)) == set(streams)
    dbt = dbt_assets_of(defs)
    read = {dep.asset_key for spec in dbt.specs for dep in spec.deps} - set(dbt.keys)
    assert read == set(streams), "every dbt source is a loader stream, and every stream feeds a model"
    assert {STG_ORDERS, FCT_ORDERS} <= set(dbt.keys)
    assert len(list(dbt.check_specs)) > 100, "dbt tests are asset checks"

    lineage = ancestors(defs, FCT_ORDERS)
    assert {bronze_key("shopify", "orders"), STG_ORDERS} <= lineage, "source to mart"

    hourly = defs.resolve_job_def("hourly").asset_layer.selected_asset_keys
    daily = defs.resolve_job_def("daily").asset_layer.selected_asset_keys
    for key, frequency in streams.items():
        assert (key in hourly) == (frequency in (Frequency.REAL_TIME, Frequency.HOURLY))
        assert (key in daily) == (frequency == Frequency.DAILY)
    assert STG_ORDERS in (
        hourly if streams[bronze_key("shopify", "orders")] in (Frequency.REAL_TIME, Frequency.HOURLY) else daily
    )
    realtime = defs.resolve_job_def("realtime_loads").asset_layer.selected_asset_keys
    assert realtime and all(streams.get(key) == Frequency.REAL_TIME for key in realtime)
    crons = {s.name: s.cron_schedule for s in defs.schedules}
    assert crons["hourly_schedule"] == "5 * * * *" and crons["daily_schedule"] == "0 2 * * *"

    fresh = {check.asset_key: check.metadata for a in defs.asset_checks for check in a.check_specs}
    assert FCT_ORDERS in fresh, "the marts carry freshness checks"
    assert {s.name for s in defs.sensors} >= {"run_failure_alerts", "sla_alerts", "freshness_checks_sensor"}


class Webhook:
    """A Slack-style incoming webhook on loopback that records what it is sent."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/lakehouse"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


def test_failing_load_retries_then_alerts_and_downstream_does_not_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, webhook: Webhook
) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    ftp = yaml.safe_load((DEFAULT_SOURCES_DIR / "ftp.yml").read_text())
    ftp["options"]["path"] = str(tmp_path / "no-such-folder")
    (sources / "ftp.yml").write_text(yaml.safe_dump(ftp))
    (tmp_path / "root").mkdir()
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(sources))
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("LAKEHOUSE_ALERT_WEBHOOK", webhook.url)
    retry = RetryPolicy(max_retries=2, delay=0.05, backoff=Backoff.EXPONENTIAL)
    defs = build_definitions([load_source_config(sources / "ftp.yml")], retry_policy=retry)
    source = bronze_key("ftp", "legacy_reports")
    staging = AssetKey(["staging", "stg_ftp__legacy_reports"])
    assert source in defs.resolve_asset_graph().get(staging).parent_keys

    instance = DagsterInstance.ephemeral()
    result = materialize(
        defs.assets,
        selection=AssetSelection.assets(source, staging),
        resources={"dbt": dbt_resource()},
        instance=instance,
        raise_on_error=False,
    )

    assert not result.success
    retries = [e for e in result.all_events if e.event_type == DagsterEventType.STEP_UP_FOR_RETRY]
    assert len(retries) == 2, "two retries after the first attempt"
    assert not result.asset_materializations_for_node("lakehouse_dbt"), "the model downstream did not run"
    started = {e.step_key for e in result.all_events if e.event_type == DagsterEventType.STEP_START}
    assert started == {"bronze__ftp__legacy_reports"}, "dbt was not even started"

    failure = result.get_run_failure_event()
    context = build_run_status_sensor_context(
        sensor_name="run_failure_alerts",
        dagster_event=failure,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    )
    run_failure_alerts(context.for_run_failure())
    [message] = webhook.received
    assert result.dagster_run.run_id in json.dumps(message)
    text = json.dumps(message["blocks"])
    assert "bronze__ftp__legacy_reports" in text and "no-such-folder" in text


@pytest.fixture(scope="module")
def dagster_ui_server(defs: Definitions, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`lakehouse orchestrate dev` on a free loopback port (the manifest is already parsed by `defs`)."""
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path_factory.mktemp("dagster-home"))}
    env.pop("LAKEHOUSE_ENV", None)  # schedules stay stopped
    log = tmp_path_factory.mktemp("dagster-log") / "dev.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", "from lakehouse.cli import app; app()", "orchestrate", "dev", "--port", str(port)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(url, process, log)
        yield url
    finally:
        _stop_group(process)


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:
    import urllib.request

    for _ in range(180):
        if process.poll() is not None:
            pytest.fail(f"`lakehouse orchestrate dev` exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(1)
    pytest.fail(f"the Dagster UI did not answer on {url} within 3 minutes:\n{log.read_text()[-3000:]}")


def _stop_group(process: subprocess.Popen) -> None:
    """Ctrl-C to the group we started (dagster dev, its webserver, daemon and code servers), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def test_ui_shows_the_marts_lineage(dagster_ui_server: str, defs: Definitions, tmp_path: Path) -> None:
    """Chromium renders the marts group's lineage graph (a JS app: it is given 20 s of virtual time)."""
    marts = {key.path[-1] for key, group in dbt_assets_of(defs).group_names_by_key.items() if group == "marts"}
    page = f"{dagster_ui_server}/locations/orchestration.definitions/asset-groups/marts/lineage"
    browser = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1600,1200",
         "--virtual-time-budget=20000", "--dump-dom", page],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    shown = {name for name in marts if f">{name}<" in browser.stdout}
    assert shown, f"no mart in the rendered lineage page ({len(browser.stdout)} characters of DOM)"
    assert ">marts<" in browser.stdout


@pytest.mark.mutates_company_lakehouse
def test_materializes_every_loader_and_the_models_up_to_fct_orders(
    company_lakehouse: CompanyLakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every loader asset (nothing new to load: the fixture loaded all) plus the dbt assets upstream of
    `fct_orders`, with their tests as checks; the whole dbt graph is left out: too slow on CI's 2 cores.
    Built with the fixture's vars, so the shared lakehouse keeps its contents."""
    monkeypatch.setenv("LAKEHOUSE_ROOT", company_lakehouse.root.uri)
    with company_lakehouse.activated():
        defs = build_definitions()
        loaders = loader_keys(defs)
        config = DbtBuildConfig(vars=BUILD_VARS, exclude=[s for s in EXCLUDED if s != "--exclude"])
        result = materialize(
            defs.assets,
            selection=AssetSelection.assets(*loaders) | AssetSelection.assets(FCT_ORDERS).upstream(),
            resources={"dbt": dbt_resource()},
            run_config=RunConfig(ops={"lakehouse_dbt": config}),
            raise_on_error=False,
        )
    failures = [e.message for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert result.success, failures
    materialized = {
        m.asset_key: m.metadata
        for m in result.get_asset_materialization_events()
        and [e.event_specific_data.materialization for e in result.get_asset_materialization_events()]
    }
    assert set(loaders) <= set(materialized)
    orders = materialized[bronze_key("shopify", "orders")]
    assert orders["rows_loaded"].value == 0 and orders["cursor"].value, "nothing new; the ledger's cursor"
    assert {FCT_ORDERS, STG_ORDERS} <= set(materialized)
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    on_orders = [c for c in checks if c.asset_key == FCT_ORDERS]
    assert on_orders and all(c.passed for c in on_orders), "fct_orders' dbt tests ran as passing checks"
    rows = company_lakehouse.query("select count(*) from sales.fct_orders")[0][0]
    assert rows > 0
