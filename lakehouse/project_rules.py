"""The project's own dbt-project-evaluator: the rules that matter, checked from `manifest.json`.

The package cannot be installed here (no dbt hub), and its rules run as models on the warehouse; these
read the manifest `dbt parse` writes, so they need no server and run in CI before anything is built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from lakehouse.core.errors import LakehouseError

RULES: dict[str, str] = {
    "source-outside-staging": "source() is used only in models/staging/<source>/ (one staging model per source table)",
    "direct-join-to-source": "a model reads one source table and nothing else; joins happen on staging models",
    "missing-primary-key-test": (
        "every model tests its key: unique + not_null on one column, or unique_combination_of_columns / "
        "expect_compound_columns_to_be_unique"
    ),
    "source-without-freshness": "every source table has a loaded_at_field and a freshness warn_after or error_after",
    "undocumented-model": "every model has a description (stating its grain)",
    "undocumented-column": "every model declares its columns, each with a description",
    "naming-and-folder": (
        "staging stg_<source>__<entity> in models/staging/<source>/, silver slv_/int_ in models/silver/<domain>/, "
        "marts fct_/dim_/rpt_/agg_ in models/marts/<domain>/"
    ),
    "contract-not-enforced": "mart models and public models enforce their contract",
}

# Folders the layer rules do not apply to, and why. Documentation rules still do.
EXEMPT_FOLDERS: dict[str, str] = {
    "models/observability/": (
        "the platform's own observability tables (dbt/packages/lakehouse_observability), created by the "
        "observability_table materialization: not a business layer, named as elementary users know them"
    ),
}
LAYER_RULES = {"naming-and-folder", "missing-primary-key-test", "contract-not-enforced"}

UNIQUE_TESTS = {"unique", "expect_column_values_to_be_unique"}
NOT_NULL_TESTS = {"not_null", "expect_column_values_to_not_be_null"}
COMPOUND_KEY_TESTS = {"unique_combination_of_columns", "expect_compound_columns_to_be_unique"}
MART_PREFIXES = ("fct_", "dim_", "rpt_", "agg_")
SILVER_PREFIXES = ("slv_", "int_")
STAGING_NAME = re.compile(r"^stg_(?P<source>[a-z0-9_]+?)__(?P<entity>[a-z0-9_]+)$")


@dataclass(frozen=True)
class Violation:
    rule: str
    unique_id: str
    path: str
    detail: str

    def describe(self) -> str:
        return f"{self.unique_id} ({self.path}): {self.detail}"


def load_manifest(path: Path) -> dict:
    if not path.exists():
        raise LakehouseError(
            f"no dbt manifest at {path}",
            "run `dbt parse --project-dir dbt --profiles-dir dbt` (no server needed), or pass --manifest PATH",
        )
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise LakehouseError(f"{path} is not valid JSON ({exc})", "re-run `dbt parse` to rewrite it") from None


def check_manifest(manifest: dict) -> list[Violation]:
    """Every broken rule, sorted by rule then node."""
    project = manifest.get("metadata", {}).get("project_name")
    nodes = manifest.get("nodes", {})
    models = {
        uid: node
        for uid, node in nodes.items()
        if node.get("resource_type") == "model" and (project is None or node.get("package_name") == project)
    }
    tests_by_model = _tests_by_model(nodes.values())
    violations: list[Violation] = []
    for uid, model in models.items():
        path = _model_path(model)
        exempt = _exemption(path)
        checks = [
            _check_sources(uid, model, path, manifest.get("sources", {})),
            _check_docs(uid, model, path),
        ]
        if exempt is None:
            checks += [
                _check_naming(uid, model, path, manifest.get("sources", {})),
                _check_primary_key(uid, path, tests_by_model.get(uid, [])),
                _check_contract(uid, model, path),
            ]
        for found in checks:
            violations.extend(found)
    violations.extend(_check_freshness(manifest.get("sources", {}), project))
    return sorted(violations, key=lambda v: (list(RULES).index(v.rule), v.unique_id))


def format_report(violations: list[Violation], where: str) -> str:
    if not violations:
        return f"All {len(RULES)} project rules pass ({where})."
    lines = [f"{len(violations)} project rule violation(s) in {where}:"]
    by_rule: dict[str, list[Violation]] = {}
    for violation in violations:
        by_rule.setdefault(violation.rule, []).append(violation)
    for rule, found in by_rule.items():
        lines.append("")
        lines.append(f"✗ {rule}: {RULES[rule]}")
        lines.extend(f"    {v.describe()}" for v in found)
    return "\n".join(lines)


# --- the rules -------------------------------------------------------------------------------------------


def _check_sources(uid: str, model: dict, path: PurePosixPath, sources: dict) -> list[Violation]:
    parents = model.get("depends_on", {}).get("nodes", [])
    source_parents = [p for p in parents if p.startswith("source.")]
    if not source_parents:
        return []
    found = []
    names = ", ".join(_source_label(sources, p) for p in source_parents)
    if not _under(path, "models/staging/"):
        found.append(
            Violation(
                "source-outside-staging",
                uid,
                str(path),
                f"reads source {names}; select from its staging model (models/staging/<source>/stg_...) instead",
            )
        )
    others = [p for p in parents if not p.startswith("source.")]
    if len(source_parents) > 1 or others:
        joined = ", ".join(_short(p) for p in [*source_parents[1:], *others])
        found.append(
            Violation(
                "direct-join-to-source",
                uid,
                str(path),
                f"joins source {_source_label(sources, source_parents[0])} with {joined}; give each source table "
                "its own staging model and join those",
            )
        )
    return found


def _check_docs(uid: str, model: dict, path: PurePosixPath) -> list[Violation]:
    found = []
    if not (model.get("description") or "").strip():
        found.append(
            Violation("undocumented-model", uid, str(path), "has no description; say what a row is (its grain)")
        )
    columns = model.get("columns") or {}
    if not columns:
        found.append(
            Violation(
                "undocumented-column", uid, str(path), "declares no columns in its YAML; list them with descriptions"
            )
        )
    missing = [name for name, column in columns.items() if not (column.get("description") or "").strip()]
    if missing:
        detail = f"columns without description: {', '.join(missing)}"
        found.append(Violation("undocumented-column", uid, str(path), detail))
    return found


def _check_naming(uid: str, model: dict, path: PurePosixPath, sources: dict) -> list[Violation]:
    name = model["name"]
    parts = path.parts
    problem = None
    if _under(path, "models/staging/"):
        folder = parts[2] if len(parts) > 3 else None
        match = STAGING_NAME.match(name)
        read = {sources[p]["source_name"] for p in model.get("depends_on", {}).get("nodes", []) if p in sources}
        if folder is None:
            problem = "staging models live in models/staging/<source>/"
        elif match is None:
            problem = f"staging models are named stg_{folder}__<entity>"
        elif match["source"] != folder:
            problem = f"is in models/staging/{folder}/ but named for source {match['source']!r}"
        elif read and read != {folder}:
            problem = f"is in models/staging/{folder}/ but reads source {', '.join(sorted(read))}"
    elif _under(path, "models/silver/"):
        if len(parts) < 4:
            problem = "silver models live in models/silver/<domain>/"
        elif not name.startswith(SILVER_PREFIXES):
            problem = "silver models are named slv_<entity> (or int_<step> for private steps)"
    elif _under(path, "models/marts/"):
        if len(parts) < 4:
            problem = "mart models live in models/marts/<domain>/ (sales, marketing, finance, hr)"
        elif not name.startswith(MART_PREFIXES):
            problem = "mart models are named fct_<process> or dim_<entity> (rpt_/agg_ for reports and aggregates)"
    else:
        problem = "is outside the layers; models live in models/staging/, models/silver/ or models/marts/"
    if problem is None:
        return []
    return [Violation("naming-and-folder", uid, str(path), problem)]


def _check_primary_key(uid: str, path: PurePosixPath, tests: list[dict]) -> list[Violation]:
    unique_columns = {t.get("column_name") for t in tests if _test_name(t) in UNIQUE_TESTS}
    not_null_columns = {t.get("column_name") for t in tests if _test_name(t) in NOT_NULL_TESTS}
    has_key = bool((unique_columns & not_null_columns) - {None}) or any(
        _test_name(t) in COMPOUND_KEY_TESTS for t in tests
    )
    if has_key:
        return []
    return [
        Violation(
            "missing-primary-key-test",
            uid,
            str(path),
            "no key test; add unique + not_null on the key column, or unique_combination_of_columns "
            "for a compound key (the grain)",
        )
    ]


def _check_contract(uid: str, model: dict, path: PurePosixPath) -> list[Violation]:
    config = model.get("config") or {}
    public = (model.get("access") or config.get("access")) == "public"
    if not (_under(path, "models/marts/") or public):
        return []
    if (config.get("contract") or {}).get("enforced"):
        return []
    why = "is a mart model" if _under(path, "models/marts/") else "is public"
    return [
        Violation(
            "contract-not-enforced",
            uid,
            str(path),
            f"{why} without an enforced contract; set config contract: {{enforced: true}} and column data_types",
        )
    ]


def _check_freshness(sources: dict, project: str | None) -> list[Violation]:
    found = []
    for uid, source in sources.items():
        if project is not None and source.get("package_name") != project:
            continue
        freshness = source.get("freshness") or {}
        thresholds = [freshness.get(k) or {} for k in ("warn_after", "error_after")]
        has_threshold = any(t.get("count") and t.get("period") for t in thresholds)
        problems = []
        if not has_threshold:
            problems.append("no freshness warn_after/error_after")
        if not source.get("loaded_at_field"):
            problems.append("no loaded_at_field")
        if problems:
            found.append(
                Violation(
                    "source-without-freshness",
                    uid,
                    source.get("original_file_path", ""),
                    f"{' and '.join(problems)}; set them on the source (loaded_at_field: _loaded_at)",
                )
            )
    return found


# --- helpers ---------------------------------------------------------------------------------------------


def _tests_by_model(nodes: Iterable[dict]) -> dict[str, list[dict]]:
    tests: dict[str, list[dict]] = {}
    for node in nodes:
        if node.get("resource_type") != "test":
            continue
        attached = node.get("attached_node") or next(iter(node.get("depends_on", {}).get("nodes", [])), None)
        if attached:
            tests.setdefault(attached, []).append(node)
    return tests


def _test_name(test: dict) -> str:
    return (test.get("test_metadata") or {}).get("name") or ""


def _model_path(model: dict) -> PurePosixPath:
    return PurePosixPath(model.get("original_file_path") or model.get("path") or "")


def _under(path: PurePosixPath, folder: str) -> bool:
    return str(path).startswith(folder)


def _exemption(path: PurePosixPath) -> str | None:
    for folder, why in EXEMPT_FOLDERS.items():
        if f"/{folder}" in f"/{path}":
            return why
    return None


def _short(unique_id: str) -> str:
    return unique_id.split(".", 2)[-1]


def _source_label(sources: dict, unique_id: str) -> str:
    source = sources.get(unique_id)
    return f"{source['source_name']}.{source['name']}" if source else _short(unique_id)
