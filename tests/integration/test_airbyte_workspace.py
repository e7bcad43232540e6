"""Airbyte connections as code: `lakehouse airbyte plan|apply|sync` through the real `airbyte-api` SDK.

No Airbyte server can run here; `tests/helpers/airbyte_api_server.py` stands in for its public API and
validates every request body against the SDK models' JSON schemas (generated from Airbyte's OpenAPI).
The repository's own `airbyte/workspace.yml` is planned and applied too, its `${secretsmanager:...}`
references read from moto's Secrets Manager, so a broken workspace file fails here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from lakehouse.airbyte.client import AirbyteClient
from lakehouse.airbyte.plan import Workspace, make_plan
from lakehouse.airbyte.spec import load_workspace
from lakehouse.cli import app
from lakehouse.core.errors import ConfigError
from lakehouse.core.home import PROJECT_DIR
from tests.helpers.airbyte_api_server import AirbyteApiServer
from tests.helpers.stream_servers import MotoServer

WORKSPACE = {
    "server_url": "${AIRBYTE_API_URL}",
    "workspace_id": "ws-1",
    "bearer_token": "${AIRBYTE_API_TOKEN}",
    "sources": {"faker": {"configuration": {"sourceType": "faker", "count": 100, "seed": 1}}},
    "destinations": {
        "bronze_landing": {
            "configuration": {
                "destinationType": "s3",
                "s3_bucket_name": "landing",
                "s3_bucket_path": "airbyte",
                "s3_bucket_region": "us-east-1",
                "access_key_id": "${LANDING_KEY_ID}",
                "secret_access_key": "${LANDING_SECRET}",
                "format": {"format_type": "JSONL"},
            }
        }
    },
    "connections": {
        "faker_to_bronze": {
            "source": "faker",
            "destination": "bronze_landing",
            "namespace_definition": "custom_format",
            "namespace_format": "faker",
            "schedule": {"schedule_type": "cron", "cron_expression": "0 0 * * * ?"},
            "streams": [
                {"name": "users", "sync_mode": "incremental_append", "cursor_field": ["updated_at"]},
                {"name": "products", "sync_mode": "full_refresh_overwrite"},
            ],
        }
    },
}
SECRET = "s3cr3t-landing-value"


@pytest.fixture(scope="module")
def airbyte_api_server() -> Iterator[AirbyteApiServer]:
    server = AirbyteApiServer().start()
    yield server
    server.stop()


@pytest.fixture
def env(airbyte_api_server: AirbyteApiServer, monkeypatch: pytest.MonkeyPatch) -> AirbyteApiServer:
    airbyte_api = airbyte_api_server
    airbyte_api.store.sources.clear()
    airbyte_api.store.destinations.clear()
    airbyte_api.store.connections.clear()
    airbyte_api.store.invalid.clear()
    monkeypatch.setenv("AIRBYTE_API_URL", airbyte_api.url)
    monkeypatch.setenv("AIRBYTE_API_TOKEN", airbyte_api.store.token)
    monkeypatch.setenv("LANDING_KEY_ID", "AKIA-landing")
    monkeypatch.setenv("LANDING_SECRET", SECRET)
    return airbyte_api


def write(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "workspace.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["airbyte", *args])


def test_apply_creates_then_plan_is_empty_and_apply_again_is_a_no_op(env: AirbyteApiServer, tmp_path: Path) -> None:
    path = write(tmp_path, WORKSPACE)
    planned = cli("plan", "-f", str(path))
    assert planned.exit_code == 0, planned.output
    assert "+ source faker" in planned.output and "+ connection faker_to_bronze" in planned.output
    assert "3 to create" in planned.output and SECRET not in planned.output

    applied = cli("apply", "-f", str(path))
    assert applied.exit_code == 0, applied.output
    assert len(env.store.sources) == len(env.store.destinations) == len(env.store.connections) == 1
    assert env.store.invalid == []  # every request body matched the API's schema

    assert "No changes" in cli("plan", "-f", str(path)).output
    before = len(env.store.requests)
    again = cli("apply", "-f", str(path))
    assert "No changes" in again.output
    assert all(method == "GET" for method, _ in env.store.requests[before:])  # nothing written


def test_a_changed_stream_shows_a_precise_diff_and_apply_updates_in_place(
    env: AirbyteApiServer, tmp_path: Path
) -> None:
    path = write(tmp_path, WORKSPACE)
    assert cli("apply", "-f", str(path)).exit_code == 0
    [connection_id] = env.store.connections

    changed = copy.deepcopy(WORKSPACE)
    users = changed["connections"]["faker_to_bronze"]["streams"][0]
    users["sync_mode"], users["primary_key"] = "incremental_deduped_history", [["id"]]
    changed["sources"]["faker"]["configuration"]["count"] = 250
    write(tmp_path, changed)
    output = cli("plan", "-f", str(path)).output
    assert "~ connection faker_to_bronze" in output
    assert "streams.users.syncMode: 'incremental_append' -> 'incremental_deduped_history'" in output
    assert "streams.users.primaryKey: (none) -> [['id']]" in output
    assert "configuration.count: 100 -> 250" in output
    assert "0 to create, 2 to update, 0 to delete" in output

    assert cli("apply", "-f", str(path)).exit_code == 0
    assert list(env.store.connections) == [connection_id]  # updated, not re-created
    assert "No changes" in cli("plan", "-f", str(path)).output
    assert env.store.invalid == []


def test_removed_resources_are_deleted_connections_first(env: AirbyteApiServer, tmp_path: Path) -> None:
    path = write(tmp_path, WORKSPACE)
    assert cli("apply", "-f", str(path)).exit_code == 0
    trimmed = {**copy.deepcopy(WORKSPACE), "connections": {}, "sources": {}}
    write(tmp_path, trimmed)
    assert "- connection faker_to_bronze" in cli("plan", "-f", str(path)).output
    assert cli("apply", "-f", str(path)).exit_code == 0
    assert not env.store.connections and not env.store.sources and len(env.store.destinations) == 1
    deletes = [target.split("/")[0] for method, target in env.store.requests if method == "DELETE"]
    assert deletes[-2:] == ["connections", "sources"]


def test_sync_follows_the_job_to_its_end(env: AirbyteApiServer, tmp_path: Path) -> None:
    path = write(tmp_path, WORKSPACE)
    assert cli("apply", "-f", str(path)).exit_code == 0
    done = cli("sync", "faker_to_bronze", "-f", str(path), "--poll", "0.01")
    assert done.exit_code == 0, done.output
    assert "succeeded" in done.output
    env.store.failing.add("faker_to_bronze")
    failed = cli("sync", "faker_to_bronze", "-f", str(path), "--poll", "0.01")
    assert failed.exit_code == 1 and "failed" in failed.output
    env.store.failing.clear()
    env.store.hanging.add("faker_to_bronze")
    timed_out = cli("sync", "faker_to_bronze", "-f", str(path), "--poll", "0.01", "--timeout", "0.2")
    env.store.hanging.clear()
    assert timed_out.exit_code == 2 and "cancelled" in timed_out.output
    assert list(env.store.jobs.values())[-1]["status"] == "cancelled"
    missing = cli("sync", "nope", "-f", str(path))
    assert missing.exit_code == 2 and "apply" in missing.output


def test_literal_credentials_and_unknown_references_are_refused(env: AirbyteApiServer, tmp_path: Path) -> None:
    literal = copy.deepcopy(WORKSPACE)
    literal["destinations"]["bronze_landing"]["configuration"]["secret_access_key"] = "plain-text"
    with pytest.raises(ConfigError, match="literal credential"):
        load_workspace(write(tmp_path, literal))
    dangling = copy.deepcopy(WORKSPACE)
    dangling["connections"]["faker_to_bronze"]["source"] = "salesforce"
    with pytest.raises(ConfigError, match="not declared"):
        load_workspace(write(tmp_path, dangling))
    env_missing = cli("plan", "-f", str(write(tmp_path, {**WORKSPACE, "bearer_token": "${NO_SUCH_TOKEN}"})))
    assert env_missing.exit_code == 2 and "NO_SUCH_TOKEN" in env_missing.output


def test_a_wrong_token_is_a_clear_error(env: AirbyteApiServer, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AIRBYTE_API_TOKEN", "wrong")
    result = cli("plan", "-f", str(write(tmp_path, WORKSPACE)))
    assert result.exit_code == 2 and "401" in result.output and "wrong" not in result.output
    monkeypatch.setenv("AIRBYTE_API_TOKEN", env.store.token)
    spec = load_workspace(write(tmp_path, WORKSPACE))
    assert make_plan(spec, Workspace.read(AirbyteClient(spec))).changes


def test_the_repository_workspace_file_plans_and_applies(
    env: AirbyteApiServer, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`airbyte/workspace.yml` as shipped: every reference resolves, every body matches the API's schemas."""
    path = PROJECT_DIR / "airbyte" / "workspace.yml"
    monkeypatch.setenv("AIRBYTE_WORKSPACE_ID", "ws-repo")
    monkeypatch.setenv("LAKEHOUSE_LANDING_BUCKET", "lakehouse-landing")
    aws = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
    for name, value in {**aws, "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_server.endpoint}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # its cached credentials would outlive this test
    secrets = boto3.client("secretsmanager", endpoint_url=moto_server.endpoint, region_name="us-east-1")
    for secret_id, value in {
        "lakehouse/hubspot": '{"access_token": "pat-dummy-hubspot"}',
        "lakehouse/airbyte-s3": '{"access_key_id": "AKIA-dummy", "secret_access_key": "dummy-s3-secret"}',
    }.items():
        try:
            secrets.create_secret(Name=secret_id, SecretString=value)
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=secret_id, SecretString=value)

    spec = load_workspace(path)
    assert spec.connections and spec.sources and spec.destinations
    planned = cli("plan", "-f", str(path))
    assert planned.exit_code == 0, planned.output
    declared = len(spec.sources) + len(spec.destinations) + len(spec.connections)
    assert f"{declared} to create" in planned.output
    assert "pat-dummy-hubspot" not in planned.output and "dummy-s3-secret" not in planned.output

    applied = cli("apply", "-f", str(path))
    assert applied.exit_code == 0, applied.output
    assert env.store.invalid == []  # the shipped configurations match the HubSpot / S3 connector schemas
    assert {row["name"] for row in env.store.connections.values()} == set(spec.connections)
    assert all(row["workspaceId"] == "ws-repo" for row in env.store.sources.values())
    assert "No changes" in cli("plan", "-f", str(path)).output
