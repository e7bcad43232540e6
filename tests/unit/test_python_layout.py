"""The layout rules of the Python packages: no import circle, no private name taken from another package,
and a docstring at the top of every package saying what lives there."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("lakehouse", "loaders", "company", "sources", "orchestration", "tests", "bench", "infra")


def project_modules() -> dict[str, Path]:
    """Dotted module name → file, for every Python file of the project's packages."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            if any(part in {"node_modules", "cdk.out", ".venv"} for part in path.parts):
                continue
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = project_modules()


def imports_of(module: str) -> list[tuple[str, str | None]]:
    """(imported module of the project, name taken from it or None) for each import in `module`,
    including those under `if TYPE_CHECKING:` and inside functions."""
    path = MODULES[module]
    here = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(here[: len(here) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.append((submodule, None) if submodule in MODULES else (base, alias.name))
    resolved = [(project_module(imported), name) for imported, name in found]
    return [(owner, name) for owner, name in resolved if owner]


def project_module(dotted: str) -> str | None:
    """The project module an import names (the nearest enclosing one for `a.b.name`), or None."""
    while dotted and dotted not in MODULES:
        dotted = dotted.rpartition(".")[0]
    return dotted or None


def package_of(module: str) -> str:
    return ".".join(MODULES[module].relative_to(REPO).parent.parts)


def test_no_module_imports_in_a_circle() -> None:
    graph = {module: {owner for owner, _ in imports_of(module) if owner != module} for module in MODULES}

    try:
        tuple(TopologicalSorter(graph).static_order())
    except CycleError as error:
        pytest.fail(f"import circle: {' -> '.join(error.args[1])}")


def test_no_module_takes_a_private_name_from_another_package() -> None:
    taken = [
        f"{module} imports {name} from {owner}"
        for module in MODULES
        for owner, name in imports_of(module)
        if name and name.startswith("_") and not name.startswith("__") and package_of(owner) != package_of(module)
    ]

    assert taken == []


def test_every_package_opens_with_a_docstring() -> None:
    bare = [
        module
        for module, path in MODULES.items()
        if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text()))
    ]

    assert bare == []
