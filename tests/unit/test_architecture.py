"""Layer rules of DESIGN.md: a lower layer never imports a higher one.

Ranks (low to high); a module may import its own subpackage and anything of a lower rank.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "src" / "workbench"

RANK = {
    "errors": 0,
    "log": 0,
    "config": 0,
    "units": 0,
    "signals": 1,
    "io": 2,
    "store": 2,
    "drivers": 3,
    "ingest": 3,
    "recording": 4,
    "readiness": 4,
    "mobility": 4,
    "bfr": 5,
    "demo": 6,
    "widgets": 6,
    "reports": 7,
    "dashboards": 7,
    "cli": 8,
}
#: Same-rank imports that are allowed (importer, imported).
ALLOWED_SIDEWAYS: set[tuple[str, str]] = set()


def _top(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "workbench" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(PKG.parent).with_suffix("")
    package = ".".join(rel.parts[:-1]) if rel.name != "__init__" else ".".join(rel.parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
    return found


def _layer_of(path: Path) -> str:
    rel = path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


FILES = sorted(p for p in PKG.rglob("*.py") if "migrations" not in p.parts)


def test_every_layer_has_a_rank():
    layers = {_layer_of(p) for p in FILES} - {"__init__", "__main__"}
    assert layers <= set(RANK), f"give these modules a rank: {sorted(layers - set(RANK))}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_upward_or_sideways_import(path):
    me = _layer_of(path)
    if me in ("__init__", "__main__"):
        return
    bad = []
    for lineno, module in _imports(path):
        other = _top(module)
        if other is None or other == me or other not in RANK:
            continue
        if RANK[other] > RANK[me] or (
            RANK[other] == RANK[me] and (me, other) not in ALLOWED_SIDEWAYS
        ):
            bad.append(
                f"{path.name}:{lineno} imports {module} ({me} rank {RANK[me]} -> {other} rank {RANK[other]})"
            )
    assert not bad, "\n".join(bad)


def test_checker_catches_a_violation(tmp_path):
    """The checker itself must fail on an upward import (a test that cannot fail is a defect)."""
    fake = PKG / "signals" / "_probe_violation.py"
    tree = ast.parse("from workbench.widgets import something\n")
    mod = tree.body[0]
    assert _top(mod.module) == "widgets" and RANK["widgets"] > RANK[_layer_of(fake)]
