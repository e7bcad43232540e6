"""The dbt project as Dagster assets: every model, snapshot and seed, with its tests as asset checks.

The manifest is parsed once (`dbt parse`, after the project's local packages are linked) into
`$LAKEHOUSE_HOME/dagster/dbt-manifest/` and parsed again only when a file of the project changes. The
translator maps each dbt source on a bronze schema (`source('<source>', '<stream>')` with schema
`bronze_<source>`) to the loader asset `["bronze", source, stream]`, so lineage runs from every loader
stream to every mart. Runs use the project's profiles (`--project-dir dbt --profiles-dir dbt`) and the
target of `DBT_TARGET` (`local`, or `emr` on AWS).
"""

# No `from __future__ import annotations` here: Dagster reads the run config class from the real annotation.

import hashlib
import json
import os
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, Config
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from pydantic import Field

from lakehouse.core.errors import LakehouseError
from lakehouse.core.home import lakehouse_home
from lakehouse.dbt_runner import DBT_DIR, install_packages
from lakehouse.platform.process import file_lock
from lakehouse.platform.spark import ThriftEndpoint
from orchestration.bronze import bronze_key

BRONZE_SCHEMA = "bronze_"
LAYERS = ("staging", "silver", "marts")
IGNORED = {"target", "logs", "dbt_packages"}  # build outputs, not sources of the manifest


class LakehouseDbtTranslator(DagsterDbtTranslator):
    """dbt sources on bronze → the loader assets; models grouped by layer (staging, silver, marts)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        schema = str(dbt_resource_props.get("schema") or "")
        if dbt_resource_props["resource_type"] == "source" and schema.startswith(BRONZE_SCHEMA):
            table = dbt_resource_props.get("identifier") or dbt_resource_props["name"]
            return bronze_key(schema.removeprefix(BRONZE_SCHEMA), table)
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn") or []
        if dbt_resource_props["resource_type"] == "model" and len(fqn) > 1 and fqn[1] in LAYERS:
            return fqn[1]
        if dbt_resource_props["resource_type"] in ("seed", "snapshot"):
            return f"{dbt_resource_props['resource_type']}s"
        return super().get_group_name(dbt_resource_props)


TRANSLATOR = LakehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class DbtBuildConfig(Config):
    """Run config of the dbt step (the Launchpad shows it): extra `--vars`, `--exclude`, `--full-refresh`."""

    vars: str = Field(default="", description="dbt --vars as YAML or JSON, e.g. '{unmask_pii: true}'")
    exclude: list[str] = Field(default_factory=list, description="dbt --exclude selectors")
    full_refresh: bool = Field(default=False, description="rebuild incremental models from scratch")


def manifest_dir(project_dir: Path = DBT_DIR) -> Path:
    """Where a project's manifest is parsed: `dbt-manifest/` for dbt/, a folder of its own for another."""
    folder = lakehouse_home() / "dagster" / "dbt-manifest"
    if project_dir.resolve() == DBT_DIR.resolve():
        return folder
    return folder.with_name(f"dbt-manifest-{hashlib.sha256(str(project_dir.resolve()).encode()).hexdigest()[:12]}")


def ensure_manifest(project_dir: Path = DBT_DIR) -> Path:
    """The project's manifest.json, parsed when the project changed since the last parse."""
    folder = manifest_dir(project_dir)
    manifest, stamp = folder / "manifest.json", folder / "fingerprint"
    fingerprint = _project_fingerprint(project_dir)
    if _parsed(manifest, stamp, fingerprint):
        return manifest
    from dbt.cli.main import dbtRunner

    install_packages(project_dir)
    folder.mkdir(parents=True, exist_ok=True)
    # Processes that start together (test workers, the webserver and the daemon) parse one at a time; the
    # stamp goes before the parse and comes back after it, so no one reads a manifest dbt is still writing.
    with file_lock(folder.with_name(folder.name + ".lock")):
        if _parsed(manifest, stamp, fingerprint):
            return manifest
        stamp.unlink(missing_ok=True)
        args = ["parse", "--project-dir", str(project_dir), "--profiles-dir", str(DBT_DIR)]
        result = dbtRunner().invoke([*args, "--target-path", str(folder), "--log-path", str(folder)])
        if not result.success:
            raise LakehouseError(
                f"dbt parse failed, so the scheduler has no dbt assets: {result.exception or 'see the messages above'}",
                "run `lakehouse dbt parse` and fix what it reports",
            )
        stamp.write_text(fingerprint)
    return manifest


def _parsed(manifest: Path, stamp: Path, fingerprint: str) -> bool:
    return manifest.exists() and stamp.exists() and stamp.read_text() == fingerprint


def _project_fingerprint(project_dir: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in IGNORED or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    digest.update(os.environ.get("DBT_TARGET", "local").encode())
    return digest.hexdigest()


@cache
def read_manifest(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def dbt_project_assets(manifest: Path) -> AssetsDefinition:
    """Every dbt model, snapshot and seed as one multi-asset; tests are its asset checks."""

    @dbt_assets(manifest=manifest, dagster_dbt_translator=TRANSLATOR, name="lakehouse_dbt")
    def lakehouse_dbt(context: AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig) -> Iterator:
        if dbt.target in (None, "local"):
            ThriftEndpoint.from_env().require_reachable()  # a clear error rather than dbt's retries
        install_packages(Path(dbt.project_dir))
        args = ["build"]
        if config.vars:
            args += ["--vars", config.vars]
        if config.exclude:
            args += ["--exclude", " ".join(config.exclude)]  # one dbt selection: a space is a union
        if config.full_refresh:
            args.append("--full-refresh")
        if context.is_subset:
            # Only the tests whose every parent this run builds: a test comparing a rebuilt model with
            # one left as it was (agg_revenue_daily against slv_payments) would fail on data it did not build.
            args += ["--indirect-selection", "cautious"]
        yield from dbt.cli(args, context=context).stream()

    return lakehouse_dbt


def dbt_resource(project_dir: Path = DBT_DIR) -> DbtCliResource:
    """dbt with the project's profiles (dbt/profiles.yml); the executable of this Python's environment."""
    executable = Path(sys.executable).parent / "dbt"
    return DbtCliResource(
        project_dir=str(project_dir),
        profiles_dir=str(DBT_DIR),
        target=os.environ.get("DBT_TARGET", "local"),
        dbt_executable=str(executable) if executable.exists() else "dbt",
    )


def dbt_asset_keys(manifest: Path, resource_types: tuple[str, ...] = ("model",)) -> dict[str, AssetKey]:
    """unique_id → asset key of the project's nodes of the given types."""
    data = read_manifest(manifest)
    return {
        unique_id: TRANSLATOR.get_asset_key(node)
        for unique_id, node in data["nodes"].items()
        if node["resource_type"] in resource_types
    }


def upstream_sources(manifest: Path, unique_id: str) -> set[AssetKey]:
    """The asset keys of every dbt source a node reads, directly or through other nodes."""
    data = read_manifest(manifest)
    parents, sources = data["parent_map"], data["sources"]
    seen, stack, found = set(), [unique_id], set()
    while stack:
        node = stack.pop()
        for parent in parents.get(node, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent in sources:
                found.add(TRANSLATOR.get_asset_key(sources[parent]))
            else:
                stack.append(parent)
    return found


def marts(manifest: Path) -> dict[str, AssetKey]:
    """unique_id → asset key of the models under models/marts."""
    data = read_manifest(manifest)
    return {
        unique_id: key
        for unique_id, key in dbt_asset_keys(manifest).items()
        if (data["nodes"][unique_id].get("fqn") or [None, None])[1] == "marts"
    }
