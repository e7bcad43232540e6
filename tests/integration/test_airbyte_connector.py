"""The `airbyte` loader family: Airbyte source connectors run locally, their records straight into bronze.

Real connectors from PyPI, each in its own venv (installed once by `.ci/install.d/airbyte-connectors.sh`):
- `airbyte-source-declarative-manifest` (Airbyte's low-code runtime) over `tests/helpers/airbyte_items_api.py`:
  a second run reads only the new records, and loads SIGKILLed in append mode leave every record once
  (exactly once from the STATE committed with each batch, and the boundary records a resumed read sends
  again recognized by their fingerprints);
- `airbyte-source-faker`: its streams land and it gets its state back; it cannot resume (every version
  restarts at id 1), so its crash test merges on `id`.
The `skip` within a state is also SIGKILLed with a minimal protocol connector of our own
(`tests/helpers/airbyte_counter_source.py`) that resumes exactly after the state it is given.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
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
from tests.helpers.airbyte_items_api import PIN as DECLARATIVE
from tests.helpers.airbyte_items_api import ItemsApi, day, manifest
from tests.helpers.loader_io import DRIVER_COMMAND, PROJECT_DIR, bronze_rows, ledger_rows

COUNTER = Path(__file__).resolve().parents[1] / "helpers" / "airbyte_counter_source.py"
FAKER = "airbyte-source-faker==7.2.1"
# source-faker's worker pool once deadlocked in a CI run (the load then waited until pytest's timeout):
# such a hang fails the test in two minutes instead, naming the limit.
FAKER_SILENCE = 120


def faker_options(config: dict[str, Any]) -> dict[str, Any]:
    return {"connector": FAKER, "config": config, "max_seconds_between_messages": FAKER_SILENCE}


def installed(pin: str) -> Connector:
    connector = Connector.parse(pin)
    if not connector.is_installed():
        pytest.fail(f"{pin} is not installed in {connector.folder}: run `bash {INSTALL_SCRIPT}`")
    return connector


@pytest.fixture(scope="module")
def faker() -> Connector:
    return installed(FAKER)


@pytest.fixture(scope="module")
def declarative() -> Connector:
    return installed(DECLARATIVE)


@pytest.fixture
def items_api() -> Iterator[ItemsApi]:
    api = ItemsApi().start()
    yield api
    api.stop()


def items_source(folder: Path, api: ItemsApi, *, last_day: int, batch_rows: int = 10_000) -> Path:
    """The items API through Airbyte's declarative runtime, up to the end of January `last_day`."""
    config = {
        "__injected_declarative_manifest": manifest(page_size=5),
        "api_url": api.url,
        "start_date": "2024-01-01T00:00:00Z",
        "end_date": f"2024-01-{last_day:02d}T23:59:59Z",
    }
    stream = {"name": "items", "primary_key": ["id"], "batch_rows": batch_rows}  # mode: append (the default)
    return write(folder, "items", {"connector": DECLARATIVE, "config": config}, [stream])


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


def test_faker_streams_land_and_the_second_run_hands_faker_its_state(faker: Connector, tmp_path: Path) -> None:
    """Faker lands; it cannot show incrementality (the next test does, with a real incremental connector):
    every published faker (4.0.0 to 7.2.1) restarts at id 1 whatever its state says, and with
    `always_updated: false` a state holding `updated_at` makes it emit nothing, even with a higher `count`."""
    root = new_root(tmp_path)
    config = {"count": 40, "seed": 3, "records_per_slice": 10, "always_updated": False, "parallelism": 1}
    streams = [{"name": "users", "primary_key": ["id"]}, {"name": "purchases", "primary_key": ["id"]}]
    source = load_source_config(write(tmp_path, "faker", faker_options(config), streams))

    first = {r.stream: r for r in load_source(root, source)}
    users = bronze_rows(root, "faker", "users")
    assert sorted(row["id"] for row in users) == list(range(1, 41))
    assert all(row["email"] and row["_airbyte_extracted_at"] for row in users)
    purchases = bronze_rows(root, "faker", "purchases")
    assert purchases and len({row["id"] for row in purchases}) == len(purchases)
    assert first["users"].batches >= 4  # one commit per STATE message (every 10 records)
    assert '"stream_state"' in first["users"].cursor_after

    config["count"] = 60
    more = load_source_config(write(tmp_path, "faker", faker_options(config), streams))
    second = {r.stream: r for r in load_source(root, more, streams=["users"])}
    assert second["users"].cursor_before == first["users"].cursor_after  # the connector got the state back
    assert second["users"].rows_read == 0
    assert len(bronze_rows(root, "faker", "users")) == 40
    assert {row["status"] for row in ledger_rows(root)} == {"success"}


def test_a_second_run_reads_only_the_new_records(declarative: Connector, items_api: ItemsApi, tmp_path: Path) -> None:
    """Airbyte's declarative runtime, incremental on `updated_at` with a slice (and a STATE) per day."""
    root = new_root(tmp_path)
    items_api.store.add_days(day(1), 4, 6)  # items 1-24, January 1-4
    first = load_source(root, load_source_config(items_source(tmp_path, items_api, last_day=4)))[0]
    assert sorted(row["id"] for row in bronze_rows(root, "items", "items")) == list(range(1, 25))
    assert first.batches == 4 and '"updated_at"' in first.cursor_after  # committed at each day's STATE
    last_seen = max(item["updated_at"] for item in items_api.store.items)

    items_api.store.add_days(day(5), 3, 5)  # items 25-39, January 5-7
    items_api.store.requests.clear()
    second = load_source(root, load_source_config(items_source(tmp_path, items_api, last_day=7)))[0]
    assert second.cursor_before == first.cursor_after
    assert second.rows_read == 15
    assert min(request["since"] for request in items_api.store.requests) >= last_seen  # no earlier day asked for
    ids = Counter(row["id"] for row in bronze_rows(root, "items", "items"))
    assert sorted(ids) == list(range(1, 40)) and set(ids.values()) == {1}

    third = load_source(root, load_source_config(items_source(tmp_path, items_api, last_day=7)))[0]
    assert third.rows_read == 0 and len(bronze_rows(root, "items", "items")) == 39


def test_a_real_connector_killed_mid_read_in_append_mode_lands_every_record_once(
    declarative: Connector, items_api: ItemsApi, tmp_path: Path
) -> None:
    """Append, no merge: exactly once comes from the STATE (and `skip`) committed with each batch."""
    root = new_root(tmp_path)
    items_api.store.add_days(day(1), 12, 10)  # items 1-120, ten a day
    items_api.store.delay_s = 0.03  # each page of 5 takes a moment, so the kills land mid-read
    rng = random.Random(7)
    kills = 0
    for _ in range(4):
        path = items_source(tmp_path, items_api, last_day=12, batch_rows=rng.choice([4, 7, 9]))
        kills += run_killed(root, path, kill_after=rng.randint(2, 9))
    assert kills >= 2
    load_source(root, load_source_config(items_source(tmp_path, items_api, last_day=12)))
    ids = Counter(row["id"] for row in bronze_rows(root, "items", "items"))
    assert sorted(ids) == list(range(1, 121)), "lost records"
    assert set(ids.values()) == {1}, f"duplicated: {[k for k, n in ids.items() if n > 1][:10]}"
    statuses = Counter(row["status"] for row in ledger_rows(root))
    assert statuses["success"] == 1 and statuses["killed"] >= 2


def test_faker_killed_mid_read_then_rerun_leaves_every_user_once(faker: Connector, tmp_path: Path) -> None:
    root = new_root(tmp_path)
    config = {"count": 60, "seed": 5, "records_per_slice": 10, "always_updated": True, "parallelism": 1}
    stream = {"name": "users", "mode": "merge", "primary_key": ["id"], "batch_rows": 7}
    source = write(tmp_path, "faker", faker_options(config), [stream])

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


def test_a_silent_connector_is_stopped_with_its_processes_and_the_load_fails_naming_the_limit(
    tmp_path: Path,
) -> None:
    root = new_root(tmp_path)
    pid_file = tmp_path / "sleeper.pid"
    config = {"count": 50, "state_every": 10, "hang_after": 20, "pid_file": str(pid_file)}
    options = {"executable": str(COUNTER), "config": config, "max_seconds_between_messages": 3}
    path = write(tmp_path, "counter", options, [{"name": "events"}])
    with pytest.raises(SourceError) as failure:
        load_source(root, load_source_config(path))
    assert "printed nothing for 3 s" in failure.value.cause
    assert "max_seconds_between_messages" in failure.value.fix and "resume" in failure.value.fix
    assert sorted(row["id"] for row in bronze_rows(root, "counter", "events")) == list(range(1, 21))
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 10  # SIGKILL is sent; the exit itself may take a moment
    while running(sleeper) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(sleeper), "the connector's own child outlived it"


def running(pid: int) -> bool:
    """Whether the process is alive (a killed one may stay a zombie until its new parent reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


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


def test_a_load_killed_mid_read_leaves_no_copy_of_the_connector_config(tmp_path: Path, monkeypatch) -> None:
    """The config reaches the connector as a file, and it holds credentials: none may outlive the load."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # the loader's (and the connector's) temporary files go here
    monkeypatch.setenv("COUNTER_PASSWORD", "p4ss-kept-off-disk")
    root = new_root(tmp_path)
    config = {"count": 400, "state_every": 25, "sleep": 0.002, "password": "${COUNTER_PASSWORD}"}
    path = write(tmp_path, "counter", {"executable": str(COUNTER), "config": config}, [{"name": "events"}])

    assert run_killed(root, path, kill_after=3)

    files = [file for file in tmp_path.rglob("*") if file.is_file()]
    assert [str(file) for file in files if b"p4ss-kept-off-disk" in file.read_bytes()] == []
    assert 0 < len(bronze_rows(root, "counter", "events")) < 400  # the connector did read its config and ran


def test_faker_spec_through_the_protocol(faker: Connector) -> None:
    spec = ConnectorProcess(faker.require(), {}, name=faker.name).spec()
    assert {"count", "seed", "records_per_slice"} <= set(spec["connectionSpecification"]["properties"])
    assert os.access(faker.executable, os.X_OK)
