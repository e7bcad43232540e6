"""The scheduler (orchestration/): one Dagster asset graph from every loader stream to every mart.

- the graph: every stream is a loader asset, every dbt source on bronze resolves to one, each frequency's
  job selects its streams and the models downstream, the marts carry SLA freshness checks;
- Airbyte: every connection of airbyte/workspace.yml is an asset upstream of the `airbyte_landing` streams
  that land its files (sources/airbyte_landing/hubspot.yml), down to the marts; materializing a connection runs
  its sync against the Airbyte API stand-in (tests/helpers/airbyte_api_server.py);
- `lakehouse orchestrate backfill` refuses a range it cannot run (the runs themselves:
  tests/integration/test_orchestration_runs.py);
- a load that keeps failing is retried with backoff, then the run-failure sensor posts to the webhook
  (a local HTTP server), and the models downstream of it do not run;
- `lakehouse orchestrate dev` serves the UI: headless Chromium renders the marts' lineage;
- end to end on the shared company lakehouse: the whole graph (every loader asset, every dbt model,
  snapshot and seed with its tests as checks) but the Airbyte connections, which need an Airbyte server.
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
from typer.testing import CliRunner

from lakehouse.airbyte.client import AirbyteClient
from lakehouse.airbyte.spec import load_workspace
from lakehouse.cli import app
from lakehouse.core.errors import ConfigError
from lakehouse.core.frequency import Frequency
from lakehouse.source_files import DEFAULT_SOURCES_DIR, all_sources
from loaders.core.config import load_source_config
from orchestration.airbyte import AirbyteSyncConfig, connection_key
from orchestration.alerts import run_failure_alerts
from orchestration.bronze import bronze_key, stream_frequency
from orchestration.dbt import TRANSLATOR, DbtBuildConfig, dbt_resource, ensure_manifest, read_manifest
from orchestration.definitions import build_definitions
from tests.helpers.airbyte_api_server import AirbyteApiServer
from tests.helpers.company_lakehouse import BUILD_VARS, EXCLUDED, CompanyLakehouse
from tests.helpers.spark import PROJECT_DIR, free_port
from tests.integration.test_airbyte_workspace import SECRET as LANDING_SECRET
from tests.integration.test_airbyte_workspace import WORKSPACE as AIRBYTE_WORKSPACE
from tests.integration.test_report import CHROMIUM_FLAGS, chromium

FCT_ORDERS = AssetKey(["sales", "fct_orders"])
STG_ORDERS = AssetKey(["staging", "stg_shopify__orders"])
HUBSPOT_AIRBYTE = PROJECT_DIR / "sources" / "airbyte_landing" / "hubspot.yml"
HUBSPOT_CONNECTION = connection_key("hubspot_to_bronze")
PROJECT = "lakehouse"  # dbt/dbt_project.yml


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


def descendants(defs: Definitions, key: AssetKey) -> set[AssetKey]:
    graph = defs.resolve_asset_graph()
    found, stack = set(), [key]
    while stack:
        for child in graph.get(stack.pop()).child_keys:
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def test_an_airbyte_connection_is_an_asset_upstream_of_its_landing_streams_down_to_the_marts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The shipped workspace file and sources/airbyte_landing/hubspot.yml, read without resolving a reference: no
    Airbyte URL, token or Secrets Manager is needed to draw the graph."""
    for variable in ("AIRBYTE_API_URL", "AIRBYTE_API_TOKEN", "LAKEHOUSE_AIRBYTE_WORKSPACE", "LAKEHOUSE_LANDING_BUCKET"):
        monkeypatch.delenv(variable, raising=False)
    defs = build_definitions([load_source_config(HUBSPOT_AIRBYTE)])
    graph = defs.resolve_asset_graph()
    assert graph.get(HUBSPOT_CONNECTION).group_name == "airbyte"
    for stream in ("contacts", "deals", "companies"):
        assert graph.get(bronze_key("hubspot", stream)).parent_keys == {HUBSPOT_CONNECTION}

    downstream = descendants(defs, HUBSPOT_CONNECTION)
    groups = dbt_assets_of(defs).group_names_by_key
    assert AssetKey(["staging", "stg_hubspot__contacts"]) in downstream
    assert AssetKey(["silver", "slv_opportunities"]) in downstream
    assert AssetKey(["sales", "fct_sales_pipeline"]) in downstream, "connection -> bronze -> staging -> silver -> mart"
    assert {groups[key] for key in downstream if key in groups} >= {"staging", "silver", "marts"}


def test_a_landing_source_naming_an_unknown_connection_or_stream_is_a_clear_error(tmp_path: Path) -> None:
    document = yaml.safe_load(HUBSPOT_AIRBYTE.read_text())
    document["options"]["connection"] = "salesforce_to_bronze"
    (tmp_path / "hubspot.yml").write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=r"salesforce_to_bronze.*is not declared") as raised:
        build_definitions([load_source_config(tmp_path / "hubspot.yml")])
    assert "hubspot_to_bronze" in raised.value.fix
    document["options"]["connection"] = "hubspot_to_bronze"
    document["streams"].append({"name": "tickets"})
    (tmp_path / "hubspot.yml").write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match="'tickets', which the connection 'hubspot_to_bronze' does not sync"):
        build_definitions([load_source_config(tmp_path / "hubspot.yml")])


@pytest.fixture
def airbyte_api() -> Iterator[AirbyteApiServer]:
    server = AirbyteApiServer().start()
    yield server
    server.stop()


def test_materializing_a_connection_runs_its_sync_through_the_airbyte_api(
    airbyte_api: AirbyteApiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Airbyte workspace tests' workspace (a faker source, connection `faker_to_bronze`) applied to the
    stand-in, a landing source reading that connection's files; the connection asset is materialized."""
    path = tmp_path / "workspace.yml"
    path.write_text(yaml.safe_dump(AIRBYTE_WORKSPACE, sort_keys=False))
    landing = {
        "source": "faker",
        "type": "airbyte_landing",
        "options": {"path": str(tmp_path / "landing"), "namespace": "faker", "connection": "faker_to_bronze"},
        "streams": [{"name": "users"}, {"name": "products"}],
    }
    (tmp_path / "faker.yml").write_text(yaml.safe_dump(landing))
    for name, value in {
        "AIRBYTE_API_URL": airbyte_api.url,  # the workspace's `server_url: ${AIRBYTE_API_URL}`
        "AIRBYTE_API_TOKEN": airbyte_api.store.token,
        "LANDING_KEY_ID": "AKIA-landing",
        "LANDING_SECRET": LANDING_SECRET,
        "LAKEHOUSE_AIRBYTE_WORKSPACE": str(path),
    }.items():
        monkeypatch.setenv(name, value)
    applied = CliRunner().invoke(app, ["airbyte", "apply"])
    assert applied.exit_code == 0, applied.output
    [connection_id] = airbyte_api.store.connections
    # A HubSpot source added in Airbyte itself: its `credentials` block stopped airbyte-api 1.0.1's union of
    # connector models; the client reads each configuration with its own connector's model instead.
    airbyte_api.store.sources["hubspot-1"] = {
        "sourceId": "hubspot-1", "name": "hubspot", "sourceType": "hubspot", "workspaceId": "ws-1",
        "definitionId": "hubspot-definition", "createdAt": 1_764_000_000,
        "configuration": {"sourceType": "hubspot", "start_date": "2024-01-01T00:00:00Z",
                          "credentials": {"credentials_title": "Private App Credentials", "access_token": "t"}},
    }  # fmt: skip
    listed = AirbyteClient(load_workspace(path)).sources()
    assert listed["hubspot"].document["configuration"]["start_date"] == "2024-01-01T00:00:00Z"

    defs = build_definitions([load_source_config(tmp_path / "faker.yml")])
    connection = connection_key("faker_to_bronze")
    assert defs.resolve_asset_graph().get(bronze_key("faker", "users")).parent_keys == {connection}
    fast = RunConfig(ops={"airbyte__faker_to_bronze": AirbyteSyncConfig(poll_s=0.01)})

    def sync(**kwargs):
        selection, resources = AssetSelection.assets(connection), {"dbt": dbt_resource()}
        return materialize(defs.assets, selection=selection, run_config=fast, resources=resources, **kwargs)

    result = sync()
    assert result.success
    [job] = airbyte_api.store.jobs.values()
    assert (job["connectionId"], job["jobType"], job["status"]) == (connection_id, "sync", "succeeded")
    [event] = result.get_asset_materialization_events()
    metadata = event.event_specific_data.materialization.metadata
    assert metadata["job_id"].value == job["jobId"] and metadata["status"].value == "succeeded"
    assert metadata["rows_synced"].value > 0

    airbyte_api.store.failing.add("faker_to_bronze")
    failed = sync(raise_on_error=False)
    assert not failed.success and not failed.get_asset_materialization_events()
    [failure] = [e for e in failed.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    text = str(failure.event_specific_data.error.message)
    assert f"Airbyte sync job {len(airbyte_api.store.jobs)} of faker_to_bronze ended failed" in text
    logs = json.dumps([str(e.message) for e in failed.all_events])
    assert LANDING_SECRET not in logs and airbyte_api.store.token not in logs
    assert airbyte_api.store.invalid == []


def test_backfill_refuses_a_range_it_cannot_run(defs: Definitions) -> None:
    backwards = CliRunner().invoke(app, ["orchestrate", "backfill", "--from", "2026-03-05", "--to", "2026-03-01"])
    assert backwards.exit_code == 2 and "after it ends" in backwards.output and "fix:" in backwards.output
    not_a_day = CliRunner().invoke(app, ["orchestrate", "backfill", "--from", "March 1", "--to", "2026-03-01"])
    assert not_a_day.exit_code == 2 and "YYYY-MM-DD" in not_a_day.output
    early = CliRunner().invoke(app, ["orchestrate", "backfill", "--from", "2019-01-01", "--to", "2019-01-02"])
    assert early.exit_code == 2 and "LAKEHOUSE_BACKFILL_START" in early.output


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
    """Ctrl-C to the group we started (dagster dev, its webserver, daemon and code servers), then SIGKILL.

    dagster dev took longer than 20 s to wind down after Ctrl-C in CI runs, and its state is a
    temporary folder: 5 s of grace, then the kill."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=5)
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
def test_materializes_the_whole_graph_on_the_demo_data(
    company_lakehouse: CompanyLakehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every asset of the definitions but the Airbyte connections (their syncs need an Airbyte server; the
    stand-in runs one above): every loader (nothing new to load, the fixture loaded all) and every dbt
    model, snapshot and seed, with the sales marts' tests as checks. The other tests (silver, the other
    marts, the unit tests) passed in the fixture's build on the same data and SQL; leaving them out
    halves this build. Built with the fixture's vars and excludes, so the shared lakehouse keeps its
    contents."""
    monkeypatch.setenv("LAKEHOUSE_ROOT", company_lakehouse.root.uri)
    with company_lakehouse.activated():
        defs = build_definitions()
        loaders = loader_keys(defs)
        manifest = read_manifest(ensure_manifest())
        own = {  # the project's models, snapshots and seeds; the observability package's run with history
            TRANSLATOR.get_asset_key(node)
            for node in manifest["nodes"].values()
            if node["resource_type"] in ("model", "snapshot", "seed") and node["package_name"] == PROJECT
        }
        excluded = [s for s in EXCLUDED if s != "--exclude"] + [
            "path:models/silver,resource_type:test",
            *(f"path:models/marts/{domain},resource_type:test" for domain in ("marketing", "finance", "hr")),
            "path:tests",
            "resource_type:unit_test",
        ]
        config = DbtBuildConfig(vars=BUILD_VARS, exclude=excluded)
        result = materialize(
            defs.assets,
            selection=AssetSelection.all() - AssetSelection.groups("airbyte"),
            resources={"dbt": dbt_resource()},
            run_config=RunConfig(ops={"lakehouse_dbt": config}),
            raise_on_error=False,
        )
    failures = [e.message for e in result.all_events if e.event_type == DagsterEventType.STEP_FAILURE]
    assert result.success, failures
    materialized = {
        e.event_specific_data.materialization.asset_key: e.event_specific_data.materialization.metadata
        for e in result.get_asset_materialization_events()
    }
    assert set(loaders) <= set(materialized), sorted(map(str, set(loaders) - set(materialized)))[:10]
    orders = materialized[bronze_key("shopify", "orders")]
    assert orders["rows_loaded"].value == 0 and orders["cursor"].value, "nothing new; the ledger's cursor"
    assert own and own <= set(dbt_assets_of(defs).keys)
    missing = own - set(materialized)
    assert not missing, f"dbt assets not materialized: {sorted(map(str, missing))[:10]}"
    checks = [
        e.event_specific_data for e in result.all_events if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    on_orders = [c for c in checks if c.asset_key == FCT_ORDERS]
    assert on_orders and all(c.passed for c in on_orders), "fct_orders' dbt tests ran as passing checks"
    for mart in ("sales.fct_orders", "marketing.dim_campaigns", "finance.agg_mrr_monthly", "hr.dim_employees"):
        assert company_lakehouse.query(f"select count(*) from {mart}")[0][0] > 0, mart
