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
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import company
import lakehouse.cli
import lakehouse.cli.errors
from lakehouse.core.errors import ConfigError, SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.core.config import SourceConfig, load_source_config
from loaders.core.retry import RetryPolicy
from loaders.pipeline import load_source, load_stream
from loaders.rest import RestSource
from loaders.rest.records import put, to_instant
from tests.helpers.api_standins import (
    APIS,
    SECRETS,
    ApiStandIn,
    RunningStandIn,
    source_environment,
    start_standin,
)
from tests.helpers.loader_io import (
    DRIVER_COMMAND,
    PROJECT_DIR,
    bronze_exists,
    bronze_rows,
    ledger_rows,
    quarantine_rows,
)

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
    for name, value in source_environment(saas_api_server, home).items():
        monkeypatch.setenv(name, value)
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


def _edited(tmp_path: Path, name: str, change: Any) -> SourceConfig:
    """`sources/rest/<name>.yml` changed by `change(definition)`, as a file of its own."""
    definition = yaml.safe_load((REST_DIR / f"{name}.yml").read_text())
    change(definition)
    path = tmp_path / f"{name}.yml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False))
    return load_source_config(path)


def _with_products_stream(tmp_path: Path, change: Any) -> SourceConfig:
    """shopify.yml with its GraphQL products stream changed by `change(stream)`."""
    return _edited(tmp_path, "shopify", lambda d: change(next(s for s in d["streams"] if s["name"] == "products")))


def test_shopify_products_come_through_graphql_as_shopify_answers_them(api: ApiStandIn, tmp_path: Path) -> None:
    """Shopify's GraphQL names fields as the query selects them (`updatedAt`), in `edges { node }`;
    the stream maps them to the REST names bronze and stg_shopify__products hold, follows `updated_at`,
    and asks only for what changed since."""
    root = _root(tmp_path, "root")
    config = load_source_config(REST_DIR / "shopify.yml")
    first = load_source(root, config, streams=["products"])[0]
    products = api.rows("shopify", "products")
    pages = -(-len(products) // 3)  # 3 products a page: the query's cost stays under 1000
    assert first.rows == len(products) and pages > 1
    assert [v["query"] for v in api.graphql_variables] == ["updated_at:>='2000-01-01T00:00:00Z'"] * pages

    newest = max(to_instant(p["updated_at"]) or datetime.min.replace(tzinfo=UTC) for p in products)
    product = products[0]
    later = (newest + timedelta(hours=1)).astimezone(timezone(timedelta(hours=-5)))  # shop-local, as REST writes
    edited = api.edit(
        "shopify", "products", (product["id"],), {"title": "Classic Beanie, Recycled", "updated_at": later.isoformat()}
    )
    api.graphql_variables.clear()
    second = load_source(root, config, streams=["products"])[0]
    assert second.rows == 1  # the edited product only, though the lookback asks again for the newest
    since = (newest - timedelta(minutes=5)).astimezone(UTC)
    assert [v["query"] for v in api.graphql_variables] == [f"updated_at:>='{since:%Y-%m-%dT%H:%M:%SZ}'"]
    landed = [row for row in bronze_rows(root, "shopify", "products") if row["id"] == product["id"]]
    latest = max(landed, key=lambda row: row["_loaded_at"])
    assert latest["title"] == "Classic Beanie, Recycled"
    assert _business([latest]) == _business([edited])  # grams, status, tags: as the REST API writes them


def test_a_graphql_stream_that_follows_a_field_the_api_does_not_return_fails_with_the_fix(
    api: ApiStandIn, tmp_path: Path
) -> None:
    root = _root(tmp_path, "root")
    # the original definition: the GraphQL answer has `updatedAt`, the cursor followed `updated_at`
    unmapped = _with_products_stream(tmp_path, lambda stream: stream.pop("fields"))
    with pytest.raises(ConfigError, match=r"no record of the page has the cursor field 'updated_at'.*updatedAt"):
        load_source(root, unmapped, streams=["products"])
    # selecting the REST name is a GraphQL error, answered with HTTP 200: the load fails with its message
    rest_names = _with_products_stream(
        tmp_path, lambda stream: stream["body"].update(query=stream["body"]["query"].replace("updatedAt", "updated_at"))
    )
    with pytest.raises(SourceError, match="Field 'updated_at' doesn't exist on type 'Product'"):
        load_source(root, rest_names, streams=["products"])
    assert not bronze_exists(root, "shopify", "products")


def _every_record_once(root: LakehouseRoot, standin: ApiStandIn, api: str, stream: str, key: str) -> None:
    rows = bronze_rows(root, api, stream)
    keys = [row[key] for row in rows]
    assert len(keys) == len(set(keys)), f"{api}.{stream}: duplicates"
    assert sorted(map(str, keys)) == sorted(str(r[key]) for r in standin.rows(api, stream))


def _source(name: str, policy: RetryPolicy) -> tuple[SourceConfig, RestSource]:
    config = load_source_config(REST_DIR / f"{name}.yml")
    return config, RestSource(config, retry=policy)


@pytest.mark.parametrize(
    ("name", "stream", "key"),
    [
        ("stripe", "charges", "id"),  # 429 `rate_limit`, no Retry-After: backoff
        ("hubspot", "contacts", "id"),  # 429 TEN_SECONDLY_ROLLING: backoff, not the daily quota
        ("shopify", "orders", "id"),  # REST: 429 with Retry-After
        ("shopify", "products", "id"),  # GraphQL: 200 THROTTLED, wait for the cost bucket
        ("salesforce", "leads", "Id"),  # 403 REQUEST_LIMIT_EXCEEDED (concurrent requests): backoff
        ("facebook_ads", "campaigns", "id"),  # 400 with code 17, 613 or 80004: backoff
        ("sap", "financial_documents", None),  # 429 with Retry-After
    ],
)
def test_each_api_throttles_its_own_way_and_every_record_lands_once(
    name: str, stream: str, key: str | None, api: ApiStandIn, tmp_path: Path
) -> None:
    root = _root(tmp_path, "root")
    api.storm_every = 2  # every other request is throttled, the first one too
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=4, sleep=waits.append)
    _, source = _source(name, policy)
    result = load_stream(root, name, next(s for s in source.streams() if s.config.name == stream), retry=policy)
    assert result.status == "success"
    if key is not None:
        _every_record_once(root, api, name, stream, key)
    else:  # a composite key: the journal entry lines, each once
        assert len(bronze_rows(root, name, stream)) == len(api.rows(name, stream))
    assert api.rate_limited >= 1 and len(waits) == api.rate_limited  # each throttle waited once, then retried
    for asked, waited in zip(api.asked_waits, waits, strict=True):
        if asked is None:  # no hint: backoff with full jitter, below the policy's first ceiling
            assert 0 <= waited <= policy.base_seconds
        else:  # Retry-After, or Shopify's (requested cost - available) / restore rate
            assert waited == pytest.approx(asked)


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


@pytest.mark.parametrize("client_auth", ["body", "basic"])
def test_client_credentials_with_a_secret_fetch_a_token_and_another_once_it_expires(
    client_auth: str, api: ApiStandIn, tmp_path: Path
) -> None:
    """Salesforce's client credentials flow (a connected app's consumer key and secret) instead of the
    JWT bearer flow: the secret goes to the token endpoint in the form or as HTTP basic, nowhere else."""
    root = _root(tmp_path, "root")
    auth = {
        "kind": "oauth2_client_credentials",
        "token_url": "/services/oauth2/token",
        "client_id": "${SALESFORCE_CLIENT_ID}",
        "client_secret": "${SALESFORCE_CLIENT_SECRET}",
        "client_auth": client_auth,
    }
    config = _edited(tmp_path, "salesforce", lambda d: d["options"].update(auth=auth))
    api.expire_at = 1  # the first token expires after the first API request
    result = load_source(root, config, streams=["leads"])[0]
    assert result.status == "success"
    assert api.token_grants["salesforce"] == 2  # the first token, and one more once it expired
    _every_record_once(root, api, "salesforce", "leads", "Id")
    secret = SECRETS["SALESFORCE_CLIENT_SECRET"]
    for sent in api.token_requests:
        assert sent["form"]["grant_type"] == "client_credentials"
        in_form = sent["form"].get("client_secret") == secret
        assert in_form == (client_auth == "body") and (sent["authorization"] is not None) == (client_auth == "basic")

    api.token_requests.clear()
    wrong = _edited(
        tmp_path, "salesforce", lambda d: d["options"].update(auth={**auth, "client_secret": "not-the-secret"})
    )
    with pytest.raises(ConfigError, match="refused the client credentials") as refused:
        load_source(root, wrong, streams=["leads"])
    assert "not-the-secret" not in str(refused.value) and secret not in str(refused.value)
    assert len(api.token_requests) == 1  # a refused secret is not tried again


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


@pytest.mark.parametrize(
    ("name", "stream", "key", "requests"),
    [
        ("hubspot", "contacts", "id", 4),  # 429, policyName DAILY, X-HubSpot-RateLimit-Daily-Remaining: 0
        ("salesforce", "leads", "Id", 1),  # 403 REQUEST_LIMIT_EXCEEDED, TotalRequests Limit exceeded
    ],
)
def test_a_spent_daily_quota_stops_cleanly_and_the_next_run_resumes(
    name: str, stream: str, key: str, requests: int, api: ApiStandIn, tmp_path: Path
) -> None:
    root = _root(tmp_path, "root")
    api.quota_left[name] = requests  # then every request answers that the quota is spent
    config = load_source_config(REST_DIR / f"{name}.yml")
    stopped = load_source(root, config, streams=[stream])[0]
    assert stopped.status == "stopped" and "quota" in (stopped.error or "")
    assert 0 < stopped.rows < len(api.rows(name, stream))
    assert api.api_requests[name] == requests + 1  # the answer that the quota is spent is not retried
    assert [row["status"] for row in ledger_rows(root)] == ["stopped"]

    api.quota_left.clear()  # the quota resets
    resumed = load_source(root, config, streams=[stream])[0]
    assert resumed.status == "success"
    assert resumed.rows == len(api.rows(name, stream)) - stopped.rows
    _every_record_once(root, api, name, stream, key)


def test_every_seed_api_has_a_source_file_with_its_streams() -> None:
    for name in [*APIS, "segment"]:
        config = load_source_config(REST_DIR / f"{name}.yml")
        embedded = load_source_config(EMBEDDED_DIR / f"{name}.yml")
        assert config.type == ("files" if name == "segment" else "rest")
        assert [(s.name, s.frequency) for s in config.streams] == [(s.name, s.frequency) for s in embedded.streams]
        assert all(s.primary_key and s.cursor_field for s in config.streams)


def test_a_facebook_limit_outlasting_the_retries_stops_cleanly_without_the_token_in_the_cursor(
    api: ApiStandIn, tmp_path: Path
) -> None:
    """Facebook's limits are hourly windows, answered with an error code (here 4) until they pass: the
    load retries, then stops as `stopped`. `paging.next` repeats the access token; the committed cursor
    keeps the URL without it, and the next run resumes from it."""
    root = _root(tmp_path, "root")
    api.quota_left["facebook_ads"] = 2  # reached at the third of three pages: the first two are committed
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, sleep=waits.append)
    _, source = _source("facebook_ads", policy)
    ads = next(s for s in source.streams() if s.config.name == "ads")
    result = load_stream(root, "facebook_ads", ads, retry=policy)
    assert result.status == "stopped" and "outlasts the retries" in (result.error or "")
    assert len(waits) == policy.max_attempts - 1 and api.api_requests["facebook_ads"] == 2 + policy.max_attempts
    cursor = json.loads(result.cursor_after or "{}")
    assert "/insights?" in cursor["run"]["next"]["url"] and "after=" in cursor["run"]["next"]["url"]
    assert SECRETS["FACEBOOK_ACCESS_TOKEN"] not in result.cursor_after

    api.quota_left.clear()  # the hour has passed
    resumed = load_stream(root, "facebook_ads", ads, retry=policy)
    assert resumed.status == "success" and result.rows + resumed.rows == len(api.rows("facebook_ads", "ads"))
    landed = Counter((row["ad_id"], row["date_start"]) for row in bronze_rows(root, "facebook_ads", "ads"))
    assert set(landed.values()) == {1}
