"""The `airbyte` loader family: Airbyte source connectors run locally, their records straight into bronze.

Real runs of `airbyte-source-faker` (from PyPI, in its own venv, installed once by
`.ci/install.d/airbyte-connectors.sh`): its streams land, a second run resumes from the committed
STATE (and reads nothing new), and a load SIGKILLed mid-read then re-run leaves every user once.
Faker cannot resume from a mid-sync state (its states say "done"), so its crash test merges on `id`;
the state/skip mechanism itself is SIGKILLed in append mode with a minimal protocol connector of our own
(`tests/helpers/airbyte_counter_source.py`) that resumes exactly after the state it is given.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from lakehouse.core.errors import ConfigError, SourceError
from lakehouse.core.storage import LakehouseRoot
from loaders.airbyte.protocol import ConnectorProcess
from loaders.airbyte.venv import INSTALL_SCRIPT, Connector
from loaders.core.config import load_source_config
from loaders.pipeline import load_source
from tests.helpers.loader_io import DRIVER_COMMAND, PROJECT_DIR, bronze_rows, ledger_rows

FAKER = "airbyte-source-faker==7.2.1"
COUNTER = Path(__file__).resolve().parents[1] / "helpers" / "airbyte_counter_source.py"


@pytest.fixture(scope="module")
def faker() -> Connector:
    connector = Connector.parse(FAKER)
    if not connector.is_installed():
        pytest.fail(f"{FAKER} is not installed in {connector.folder}: run `bash {INSTALL_SCRIPT}`")
    return connector


def write(folder: Path, name: str, options: dict[str, Any], streams: list[dict[str, Any]]) -> Path:
    path = folder / f"{name}.yml"
    document = {"source": name, "type": "airbyte", "options": options, "streams": streams}
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def new_root(tmp_path: Path, name: str = "root") -> LakehouseRoot:
    (tmp_path / name).mkdir()
    return LakehouseRoot.parse(str(tmp_path / name))


def run_killed(root: LakehouseRoot, source: Path, kill_after: int) -> bool:
    """Run a load in a child process; SIGKILL it after `kill_after` committed batches. True if killed."""
    command = [*DRIVER_COMMAND, "--root", root.uri, "--source-file", str(source)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=PROJECT_DIR)
    assert child.stdout is not None
    committed, output = 0, []
    while committed < kill_after:
        line = child.stdout.readline()
        if not line:
            assert child.wait() == 0, "".join(output)
            return False
        output.append(line)
        committed += line.startswith("batch ")
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    return child.returncode == -signal.SIGKILL


def test_faker_streams_land_and_the_second_run_resumes_from_state(faker: Connector, tmp_path: Path) -> None:
    root = new_root(tmp_path)
    config = {"count": 40, "seed": 3, "records_per_slice": 10, "always_updated": False, "parallelism": 1}
    streams = [{"name": "users", "primary_key": ["id"]}, {"name": "purchases", "primary_key": ["id"]}]
    source = load_source_config(write(tmp_path, "faker", {"connector": FAKER, "config": config}, streams))

    first = {r.stream: r for r in load_source(root, source)}
    users = bronze_rows(root, "faker", "users")
    assert sorted(row["id"] for row in users) == list(range(1, 41))
    assert all(row["email"] and row["_airbyte_extracted_at"] for row in users)
    purchases = bronze_rows(root, "faker", "purchases")
    assert purchases and len({row["id"] for row in purchases}) == len(purchases)
    assert first["users"].batches >= 4  # one commit per STATE message (every 10 records)
    assert '"stream_state"' in first["users"].cursor_after

    second = {r.stream: r for r in load_source(root, source, streams=["users"])}
    assert second["users"].cursor_before == first["users"].cursor_after  # the connector got the state back
    assert second["users"].rows_read == 0
    assert len(bronze_rows(root, "faker", "users")) == 40
    assert {row["status"] for row in ledger_rows(root)} == {"success"}


def test_faker_killed_mid_read_then_rerun_leaves_every_user_once(faker: Connector, tmp_path: Path) -> None:
    root = new_root(tmp_path)
    config = {"count": 60, "seed": 5, "records_per_slice": 10, "always_updated": True, "parallelism": 1}
    stream = {"name": "users", "mode": "merge", "primary_key": ["id"], "batch_rows": 7}
    source = write(tmp_path, "faker", {"connector": FAKER, "config": config}, [stream])

    assert run_killed(root, source, kill_after=3)
    partial = bronze_rows(root, "faker", "users")
    assert 0 < len(partial) < 60
    load_source(root, load_source_config(source))
    ids = Counter(row["id"] for row in bronze_rows(root, "faker", "users"))
    assert sorted(ids) == list(range(1, 61)) and set(ids.values()) == {1}


def test_state_checkpoints_are_exactly_once_across_sigkills(tmp_path: Path) -> None:
    """Append mode, batches cut both at STATE messages and at `batch_rows` between them (the `skip`)."""
    root = new_root(tmp_path)
    rng = random.Random(12)
    config = {"count": 400, "state_every": 25, "sleep": 0.002}
    stream: dict[str, Any] = {"name": "events", "batch_rows": 10}
    path = write(tmp_path, "counter", {"executable": str(COUNTER), "config": config}, [stream])
    kills = 0
    for _ in range(4):
        stream["batch_rows"] = rng.choice([7, 10, 13])  # resumed batches do not line up with the killed ones
        write(tmp_path, "counter", {"executable": str(COUNTER), "config": config}, [stream])
        kills += run_killed(root, path, kill_after=rng.randint(2, 9))
    assert kills >= 2
    load_source(root, load_source_config(path))
    ids = Counter(row["id"] for row in bronze_rows(root, "counter", "events"))
    assert sorted(ids) == list(range(1, 401)), "lost records"
    assert set(ids.values()) == {1}, f"duplicated: {[k for k, n in ids.items() if n > 1][:10]}"
    statuses = Counter(row["status"] for row in ledger_rows(root))
    assert statuses["success"] == 1 and statuses["killed"] >= 2


def test_a_failing_connector_fails_the_load_clearly_and_the_rerun_resumes(tmp_path: Path) -> None:
    root = new_root(tmp_path)
    options = {"executable": str(COUNTER), "config": {"count": 50, "state_every": 10, "fail_after": 33}}
    path = write(tmp_path, "counter", options, [{"name": "events"}])
    with pytest.raises(SourceError) as failure:
        load_source(root, load_source_config(path))
    assert "boom" in failure.value.cause and "resume" in failure.value.fix
    committed = sorted(row["id"] for row in bronze_rows(root, "counter", "events"))
    assert committed == list(range(1, len(committed) + 1)) and len(committed) in (20, 30)  # whole STATE batches
    options["config"].pop("fail_after")
    write(tmp_path, "counter", options, [{"name": "events"}])
    load_source(root, load_source_config(path))
    assert sorted(row["id"] for row in bronze_rows(root, "counter", "events")) == list(range(1, 51))


def test_bad_configuration_names_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = new_root(tmp_path)
    monkeypatch.setenv("LAKEHOUSE_AIRBYTE_VENVS", str(tmp_path / "venvs"))
    missing = write(tmp_path, "missing", {"connector": "airbyte-source-stripe==5.15.0"}, [{"name": "charges"}])
    with pytest.raises(SourceError) as failure:
        load_source(root, load_source_config(missing))
    assert "airbyte-connectors.sh" in failure.value.fix
    unpinned = write(tmp_path, "unpinned", {"connector": "airbyte-source-stripe"}, [{"name": "charges"}])
    with pytest.raises(ConfigError, match="pinned"):
        load_source(root, load_source_config(unpinned))
    unknown = write(tmp_path, "unknown", {"executable": str(COUNTER)}, [{"name": "nope"}])
    with pytest.raises(SourceError) as failure:
        load_source(root, load_source_config(unknown))
    assert "events" in failure.value.fix
    refresh_only = [{"name": "events", "sync_mode": "full_refresh"}]
    refresh_file = write(tmp_path, "mode", {"executable": str(COUNTER)}, refresh_only)
    with pytest.raises(ConfigError, match="mode: full_refresh"):
        load_source(root, load_source_config(refresh_file))


def test_secrets_in_the_connector_config_are_resolved_and_never_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("COUNTER_PASSWORD", "wrong")
    process = ConnectorProcess(COUNTER, {"password": "wrong"}, name="counter")
    with pytest.raises(SourceError, match="bad password"):
        process.check()
    root = new_root(tmp_path)
    options = {"executable": str(COUNTER), "config": {"count": 5, "password": "${COUNTER_PASSWORD}"}}
    load_source(root, load_source_config(write(tmp_path, "counter", options, [{"name": "events"}])))
    assert len(bronze_rows(root, "counter", "events")) == 5
    assert "wrong" not in (tmp_path / "counter.yml").read_text()


def test_faker_spec_through_the_protocol(faker: Connector) -> None:
    spec = ConnectorProcess(faker.require(), {}, name=faker.name).spec()
    assert {"count", "seed", "records_per_slice"} <= set(spec["connectionSpecification"]["properties"])
    assert os.access(faker.executable, os.X_OK)
