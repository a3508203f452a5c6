"""Which way imports point (docs/architecture.md, "Import rules"), checked on the source.

Every import statement counts, including those inside functions and `if TYPE_CHECKING:`
blocks: a late import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Entrypoints parse, call a service and render: SQL and models stay behind bot/store. They may
# hold the database handle (bot.store.db.Database) to pass it to services.
NO_SQL = ("sqlalchemy", "bot.store")

# package -> module prefixes it must not import
# The core counts through the metrics port (bot/metrics.py); prometheus_client is the edge's.
METRICS_LIBRARY = "prometheus_client"

RULES: dict[str, tuple[str, ...]] = {
    "bot.domain": (
        "bot.store",
        "bot.services",
        "bot.web",
        "bot.engine",
        "connectors",
        "actions",
        METRICS_LIBRARY,
    ),
    "bot.services": ("bot.web", "connectors", "actions", METRICS_LIBRARY),
    "bot.store": ("bot.services", "bot.web", "connectors", "actions", METRICS_LIBRARY),
    "bot.search": ("bot.store", "bot.services", "bot.web", "connectors", "actions"),
    "bot.channels": ("bot.store", "bot.services", "bot.web", "connectors", "actions"),
    "bot.metrics": (
        "bot.store",
        "bot.services",
        "bot.web",
        "bot.engine",
        "connectors",
        "actions",
        METRICS_LIBRARY,
    ),
    "bot.engine": (
        "bot.store",
        "bot.services",
        "bot.web",
        "connectors",
        "actions",
        METRICS_LIBRARY,
    ),
    # Connectors implement the core's channel port; only the app factory imports them.
    "connectors": ("bot.web", "actions", *NO_SQL),
    "actions": ("bot.web", "connectors", *NO_SQL),
    # Routes and the app factory (the one place that imports connectors and actions).
    "bot.web": NO_SQL,
}
# Imports a rule's prefix would catch but that are allowed everywhere.
ALLOWED = ("bot.store.db", "bot.store.db.Database")


def module_name(path: Path) -> str:
    """bot/services/cases.py -> bot.services.cases; a package's __init__ -> the package."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, module: str | None = None) -> set[str]:
    """Every module an import statement in the file names (relative imports resolved
    against `module`, the file's dotted name, by default its place in the project)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = module or module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    """`file: imported module` for each import of `package` that the rules forbid."""
    directory = ROOT.joinpath(*package.split("."))
    files = (
        sorted(directory.rglob("*.py")) if directory.is_dir() else [directory.with_suffix(".py")]
    )
    found = []
    for path in files:
        if "migrations" in path.parts:
            continue
        found += [
            f"{path.relative_to(ROOT)}: {name}"
            for name in forbidden_among(imported_modules(path), forbidden)
        ]
    return found


def forbidden_among(names: set[str], forbidden: tuple[str, ...]) -> list[str]:
    """The names that are, or are inside, a forbidden module (sorted)."""
    return sorted(
        n
        for n in names
        if n not in ALLOWED and any(n == f or n.startswith(f + ".") for f in forbidden)
    )


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_point_inwards(package: str) -> None:
    """The core never depends on its edges."""
    bad = violations(package, RULES[package])
    assert not bad, f"{package} must not import {RULES[package]}:\n" + "\n".join(bad)


def test_the_checker_sees_late_and_relative_imports(tmp_path: Path) -> None:
    """The parser finds imports inside functions and resolves relative ones (else the rules
    above could pass by not looking)."""
    sample = ROOT / "bot" / "domain" / "cases.py"
    names = imported_modules(sample)
    assert "bot.errors" in names, names
    assert "bot.domain.deadlines" in names, names
    late = tmp_path / "late.py"
    late.write_text(
        "def f():\n    from connectors import web\n    import bot.web.app\n"
        "    from ..store import models\n"
    )
    found = imported_modules(late, module="bot.services.late")
    assert {"connectors.web", "bot.web.app", "bot.store.models"} <= found, found
    assert forbidden_among(found, RULES["bot.services"]) == [
        "bot.web.app",
        "connectors",
        "connectors.web",
    ]
