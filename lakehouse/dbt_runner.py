"""Run dbt (in-process, through dbt's own Python entry point) against the Thrift server."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from lakehouse.core.errors import LakehouseError
from lakehouse.core.home import PROJECT_DIR
from lakehouse.platform.process import file_lock
from lakehouse.platform.spark import ThriftEndpoint

DBT_DIR = PROJECT_DIR / "dbt"
# Commands that need no installed packages (the others read dbt/dbt_packages/).
NO_PACKAGES_NEEDED = {"deps", "clean", "debug", "init"}


def target_dir() -> Path:
    """dbt's artifacts folder; DBT_TARGET_PATH (dbt's own variable) moves it, as the tests do."""
    return Path(os.environ.get("DBT_TARGET_PATH", DBT_DIR / "target")).resolve()


@dataclass
class DbtOutcome:
    command: str
    success: bool
    statuses: dict[str, int] = field(default_factory=dict)  # e.g. {"success": 5, "pass": 12}
    failures: list[str] = field(default_factory=list)


def log_file() -> Path:
    """dbt's log file: DBT_LOG_PATH (dbt's own variable, as the tests set it) or dbt/logs."""
    return Path(os.environ.get("DBT_LOG_PATH", DBT_DIR / "logs")).resolve() / "dbt.log"


def run_dbt(
    args: list[str], *, target: str | None = None, quiet: bool = False, on_event: Callable | None = None
) -> DbtOutcome:
    """Run a dbt command (`["build"]`, `["docs", "generate"]`, ...) and summarise the results.

    `quiet` keeps dbt's own log off the terminal (it still goes, in full, to `log_file()`);
    `on_event` receives every dbt event, e.g. to show progress instead.
    """
    from dbt.cli.main import dbtRunner

    target = target or os.environ.get("DBT_TARGET", "local")
    endpoint = ThriftEndpoint.from_env() if target == "local" else None
    if endpoint is not None:
        endpoint.require_reachable()
    if not NO_PACKAGES_NEEDED & set(args[:1]):
        install_packages()
    full = [*args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR), "--target", target]
    if quiet:
        full += ["--log-level", "none", "--log-level-file", "debug", "--log-path", str(log_file().parent)]
    result = dbtRunner(callbacks=[on_event] if on_event else None).invoke(full)
    if result.exception is not None:
        raise LakehouseError(
            f"dbt {' '.join(args)} could not run: {result.exception}",
            "read the message above; `dbt debug --project-dir dbt --profiles-dir dbt` checks the connection",
        )
    return _summarise(" ".join(args), result)


def install_packages(project_dir: Path = DBT_DIR) -> None:
    """`dbt deps`: the project's own local packages (dbt/packages.yml) into dbt_packages/; no network.

    dbt links a local package rather than copying it, so once every package is linked there is
    nothing to refresh and dbt is not invoked again. Processes that start together (test workers, the
    Dagster webserver and daemon) link them one at a time: dbt's own linking fails on a link another made.
    """
    from dbt.cli.main import dbtRunner

    if _local_packages_linked(project_dir):
        return
    with file_lock(project_dir / "dbt_packages.lock"):
        if _local_packages_linked(project_dir):
            return
        result = dbtRunner().invoke(["deps", "--project-dir", str(project_dir), "--profiles-dir", str(DBT_DIR)])
    if not result.success:
        raise LakehouseError(
            f"dbt deps failed in {project_dir}: {result.exception or 'see the messages above'}",
            f"run `dbt deps --project-dir {project_dir}` and fix what it reports",
        )


def _summarise(command: str, result) -> DbtOutcome:
    outcome = DbtOutcome(command, bool(result.success))
    for node in getattr(result.result, "results", None) or []:
        status = str(getattr(node.status, "value", node.status))
        if getattr(node.node, "resource_type", None) == "operation" and status not in ("error", "fail"):
            continue  # hooks (the observability on-run-end) are not models or tests
        outcome.statuses[status] = outcome.statuses.get(status, 0) + 1
        if status in ("error", "fail"):
            outcome.failures.append(f"{node.node.unique_id}: {_first_lines(str(node.message))}")
    return outcome


def _first_lines(message: str, count: int = 3) -> str:
    """dbt-spark messages carry whole Java stack traces; the cause is in the first lines."""
    return "\n".join(message.strip().splitlines()[:count])


def run_results() -> dict:
    path = target_dir() / "run_results.json"
    return json.loads(path.read_text()) if path.exists() else {}


def docs_index() -> Path:
    return target_dir() / "index.html"


def _local_packages_linked(project_dir: Path) -> bool:
    import yaml

    packages = project_dir / "packages.yml"
    if not packages.exists():
        return True  # a project with no packages (the test fixtures)
    declared = yaml.safe_load(packages.read_text()).get("packages", [])
    if any("local" not in package for package in declared):
        return False
    installed = project_dir / "dbt_packages"
    return all((installed / Path(package["local"]).name).exists() for package in declared)
