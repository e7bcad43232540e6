"""The REST family against local stand-ins of every SaaS API of the seed (tests/helpers/api_standins.py).

Each API's source file (`sources/rest/<api>.yml`) lands its streams from the stand-in, which serves
the generated company; after the company's next day, a second load takes only what changed, and
bronze holds the same business rows as the files family loading the generated files. Then the
faults: a 429 storm, SIGKILLs mid-run, an expired and a revoked token, a spent daily quota.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import company
import lakehouse.cli
import lakehouse.cli.errors
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, load_source_config
from loaders.core.retry import RetryPolicy
from loaders.pipeline import load_source, load_stream
from loaders.rest import RestSource
from loaders.rest.records import put, to_instant
from tests.helpers.api_standins import APIS, SECRETS, ApiStandIn, RunningStandIn, start_standin
from tests.helpers.loader_io import DRIVER_COMMAND, PROJECT_DIR, bronze_rows, ledger_rows, quarantine_rows

REST_DIR = PROJECT_DIR / "sources" / "rest"
EMBEDDED_DIR = PROJECT_DIR / "sources" / "embedded"
DAYS = 10  # Google Ads' first campaign days fall in the second week
INCREMENT = (company.DEFAULT_START + timedelta(days=DAYS)).isoformat()
_LOOKS_LIKE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}.*)?$")
_NUMBER = re.compile(r"^-?\d{1,15}(\.\d+)?$")
METADATA = {"_loaded_at", "_load_id", "_source", "_stream", "_op", "_rescued_data", "_loaded_date"}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A LAKEHOUSE_HOME whose samples hold a small company: the history, and the next day beside it."""
    folder = tmp_path_factory.mktemp("home")
    out = folder / "samples" / "company"
    company.generate(out, seed=7, scale=0.05, days=DAYS)
    company.generate_increment(out, DAYS, seed=7, scale=0.05)
    return folder


@pytest.fixture(scope="module")
def saas_api_server(home: Path) -> Iterator[RunningStandIn]:
    running = start_standin(home / "samples" / "company", page_size=7)
    yield running
    running.stop()


@pytest.fixture
def api(saas_api_server: RunningStandIn, monkeypatch: pytest.MonkeyPatch, home: Path) -> ApiStandIn:
    """The stand-in back at the history with no faults, and the environment its source files read."""
    saas_api_server.standin.reset()
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    for name in APIS:
        monkeypatch.setenv(f"{name.upper()}_BASE_URL", saas_api_server.base_url(name))
        monkeypatch.setenv(f"{name.upper()}_PAGE_SIZE", "10")
    monkeypatch.setenv("FACEBOOK_BASE_URL", saas_api_server.base_url("facebook_ads"))
    monkeypatch.setenv("FACEBOOK_PAGE_SIZE", "10")
    monkeypatch.setenv("GOOGLE_OAUTH_TOKEN_URL", f"{saas_api_server.base_url('google_ads')}/token")
    monkeypatch.setenv("SALESFORCE_PRIVATE_KEY", saas_api_server.standin.salesforce_key)
    monkeypatch.setenv("NETSUITE_PRIVATE_KEY", saas_api_server.standin.netsuite_key)
    monkeypatch.setenv("SALESFORCE_AUDIENCE", "standin")
    monkeypatch.setenv("NETSUITE_AUDIENCE", "standin")
    monkeypatch.setenv("LAKEHOUSE_HOME", str(home))
    monkeypatch.setenv("SEGMENT_FILES_PATH", str(home / "samples" / "company" / "segment"))
    return saas_api_server.standin


def _root(tmp_path: Path, name: str) -> LakehouseRoot:
    (tmp_path / name).mkdir()
    return LakehouseRoot.parse(str(tmp_path / name))


def _business(records: list[dict[str, Any]], drop: set[str] | frozenset[str] = frozenset()) -> Counter[str]:
    """Records as a multiset of canonical JSON: loader columns dropped, rescued values put back,
    nulls left out (a struct field one side never saw), instants in UTC, integral floats as integers."""
    canonical = []
    for record in records:
        record = {k: v for k, v in record.items() if k not in drop}
        rescued = record.pop("_rescued_data", None)
        record = {k: v for k, v in record.items() if k not in METADATA}
        for path, value in (json.loads(rescued) if rescued else {}).items():
            put(record, path, value)
        canonical.append(json.dumps(_canonical(record), sort_keys=True))
    return Counter(canonical)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        items = {k: _canonical(v) for k, v in value.items()}
        return {k: v for k, v in items.items() if v is not None and v != {}}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Decimal):
        return _canonical(float(value))
    if isinstance(value, str) and _NUMBER.match(value):  # "12" into an integer column is cast, on purpose
        return _canonical(float(value))
    if isinstance(value, datetime | date) or (isinstance(value, str) and _LOOKS_LIKE_TIME.match(value)):
        moment = to_instant(value)
        return moment.astimezone(UTC).isoformat() if moment is not None else value
    return value


def _generated(home: Path, api: str, stream: str) -> list[dict[str, Any]]:
    folder = home / "samples" / "company" / api / stream
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()]


def _increment_lines(home: Path, api: str, stream: str) -> int:
    path = home / "samples" / "company" / api / stream / f"day={INCREMENT}.jsonl"
    return sum(1 for line in path.read_text().splitlines() if line.strip())


@pytest.mark.parametrize("name", [*APIS, "segment"])
def test_api_lands_incrementally_as_the_generated_files(
    name: str, api: ApiStandIn, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rest = _root(tmp_path, "rest")
    if name == "segment":  # the S3 destination's files: the history now, the next day's file later
        synced = tmp_path / "segment"
        shutil.copytree(home / "samples" / "company" / "segment", synced)
        for late in synced.glob(f"*/day={INCREMENT}.jsonl"):
            late.unlink()
        monkeypatch.setenv("SEGMENT_FILES_PATH", str(synced))
    config = load_source_config(REST_DIR / f"{name}.yml")
    first = load_source(rest, config)
    assert all(r.status == "success" for r in first)
    assert sum(r.rows for r in first) > 0

    api.advance(INCREMENT)  # the company's next day, in the API
    if name == "segment":
        for late in (home / "samples" / "company" / "segment").glob(f"*/day={INCREMENT}.jsonl"):
            shutil.copy(late, tmp_path / "segment" / late.parent.name / late.name)
    second = load_source(rest, config)
    for result in second:  # only what changed that day comes again
        assert result.rows == _increment_lines(home, name, result.stream), result.stream

    for stream in config.streams:  # every version of every record the generator wrote, nothing else
        # Bulk API 2.0 results are CSV: no `attributes` object per record
        drop = {"attributes"} if stream.extra.get("bulk") else set()
        quarantined = [json.loads(q["raw_payload"]) for q in quarantine_rows(rest) if q["stream"] == stream.name]
        got = _business(bronze_rows(rest, name, stream.name) + quarantined, drop)
        assert got == _business(_generated(home, name, stream.name), drop), stream.name


def _every_record_once(root: LakehouseRoot, standin: ApiStandIn, api: str, stream: str, key: str) -> None:
    rows = bronze_rows(root, api, stream)
    keys = [row[key] for row in rows]
    assert len(keys) == len(set(keys)), f"{api}.{stream}: duplicates"
    assert sorted(map(str, keys)) == sorted(str(r[key]) for r in standin.rows(api, stream))


def _source(name: str, policy: RetryPolicy) -> tuple[SourceConfig, RestSource]:
    config = load_source_config(REST_DIR / f"{name}.yml")
    return config, RestSource(config, retry=policy)


def test_a_429_storm_ends_with_every_record_once(api: ApiStandIn, tmp_path: Path) -> None:
    root = _root(tmp_path, "root")
    api.storm_every = 7  # one request in seven is answered 429, Retry-After 0.01
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=4, sleep=waits.append)
    for name, stream, key in [
        ("stripe", "charges", "id"),
        ("hubspot", "contacts", "id"),
        ("shopify", "orders", "id"),
        ("salesforce", "leads", "Id"),
        ("sap", "financial_documents", "AccountingDocument"),
    ]:
        _, source = _source(name, policy)
        wanted = next(s for s in source.streams() if s.config.name == stream)
        load_stream(root, name, wanted, retry=policy)
        if name != "sap":
            _every_record_once(root, api, name, stream, key)
    assert api.rate_limited * 10 >= sum(api.api_requests.values())  # at least 10 % were throttled
    assert waits and all(wait == 0.01 for wait in waits)  # each wait is what Retry-After asked
    sap = bronze_rows(root, "sap", "financial_documents")
    assert len(sap) == len(api.rows("sap", "financial_documents"))


@pytest.mark.parametrize(("name", "stream", "key"), [("stripe", "customers", "id"), ("salesforce", "accounts", "Id")])
def test_sigkill_mid_run_then_rerun_lands_every_record_once(
    name: str, stream: str, key: str, api: ApiStandIn, tmp_path: Path
) -> None:
    root = _root(tmp_path, "root")
    api.delay_s = 0.02
    command = [*DRIVER_COMMAND, "--root", str(root.uri), "--source-file", str(REST_DIR / f"{name}.yml")]
    command += ["--stream", stream]
    kills = 0
    for kill_after in (1, 3):  # SIGKILL right after the n-th committed batch of each attempt
        process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True, env=os.environ.copy())
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("batch ") and int(line.split()[1]) >= kill_after:
                process.send_signal(signal.SIGKILL)
                kills += 1
                break
        process.wait(timeout=60)
    assert kills >= 2
    done = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    _every_record_once(root, api, name, stream, key)
    statuses = Counter(row["status"] for row in ledger_rows(root))
    assert statuses["killed"] == kills and statuses["success"] >= 1


def test_an_expired_token_is_refreshed_once_and_the_load_goes_on(api: ApiStandIn, tmp_path: Path) -> None:
    root = _root(tmp_path, "root")
    api.expire_at = 4  # every access token expires after the fourth API request
    results = load_source(root, load_source_config(REST_DIR / "hubspot.yml"), streams=["contacts"])
    assert results[0].status == "success"
    assert api.token_grants["hubspot"] == 2  # the first token, and one refresh
    _every_record_once(root, api, "hubspot", "contacts", "id")


def test_a_revoked_refresh_token_fails_with_the_fix_and_no_secret(
    api: ApiStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _root(tmp_path, "root")
    monkeypatch.setenv("LAKEHOUSE_ROOT", str(root.uri))
    monkeypatch.setenv("LAKEHOUSE_SOURCES", str(REST_DIR))
    monkeypatch.setattr(lakehouse.cli.errors.console, "width", 250)
    api.revoke("hubspot")
    result = CliRunner().invoke(lakehouse.cli.app, ["load", "hubspot"])
    assert result.exit_code != 0
    assert "error:" in result.output and "fix:" in result.output
    assert "refused the refresh token" in result.output
    ledger = ledger_rows(root)
    assert ledger and all(row["status"] == "failed" for row in ledger)
    recorded = result.output + json.dumps(ledger, default=str)
    for secret in SECRETS.values():
        assert secret not in recorded


def test_a_spent_daily_quota_stops_cleanly_and_the_next_run_resumes(api: ApiStandIn, tmp_path: Path) -> None:
    root = _root(tmp_path, "root")
    api.quota_left["hubspot"] = 4
    config = load_source_config(REST_DIR / "hubspot.yml")
    stopped = load_source(root, config, streams=["contacts"])[0]
    assert stopped.status == "stopped" and "quota" in (stopped.error or "")
    assert 0 < stopped.rows < len(api.rows("hubspot", "contacts"))
    assert [row["status"] for row in ledger_rows(root)] == ["stopped"]

    api.quota_left.clear()  # the quota resets
    resumed = load_source(root, config, streams=["contacts"])[0]
    assert resumed.status == "success"
    assert resumed.rows == len(api.rows("hubspot", "contacts")) - stopped.rows
    _every_record_once(root, api, "hubspot", "contacts", "id")


def test_every_seed_api_has_a_source_file_with_its_streams() -> None:
    for name in [*APIS, "segment"]:
        config = load_source_config(REST_DIR / f"{name}.yml")
        embedded = load_source_config(EMBEDDED_DIR / f"{name}.yml")
        assert config.type == ("files" if name == "segment" else "rest")
        assert [(s.name, s.frequency) for s in config.streams] == [(s.name, s.frequency) for s in embedded.streams]
        assert all(s.primary_key and s.cursor_field for s in config.streams)


def test_the_access_token_in_a_next_url_never_lands_in_the_cursor(api: ApiStandIn, tmp_path: Path) -> None:
    """Facebook's `paging.next` repeats the access token; the committed cursor keeps the URL without it."""
    root = _root(tmp_path, "root")
    api.quota_left["facebook_ads"] = 2  # spent at the third of three pages: the first one is committed
    result = load_source(root, load_source_config(REST_DIR / "facebook_ads.yml"), streams=["ads"])[0]
    assert result.status == "stopped"
    cursor = json.loads(result.cursor_after or "{}")
    assert "/insights?" in cursor["run"]["next"]["url"] and "after=" in cursor["run"]["next"]["url"]
    assert SECRETS["FACEBOOK_ACCESS_TOKEN"] not in result.cursor_after
