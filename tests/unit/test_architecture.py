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
    "signals": 1,
    "plotting": 1,
    "io": 2,
    "store": 2,
    "drivers": 3,
    "ingest": 3,
    "recording": 4,
    "readiness": 4,
    "mobility": 4,
    "bfr": 5,
    "planning": 5,
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


def _imports(path: Path, pkg: Path = PKG) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    rel = path.relative_to(pkg.parent).with_suffix("")
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


def _layer_of(path: Path, pkg: Path = PKG) -> str:
    rel = path.relative_to(pkg)
    return rel.parts[0].removesuffix(".py")


def violations(path: Path, pkg: Path = PKG) -> list[str]:
    """Upward or sideways imports of one module of the package rooted at ``pkg``."""
    me = _layer_of(path, pkg)
    if me in ("__init__", "__main__"):
        return []
    bad = []
    for lineno, module in _imports(path, pkg):
        other = _top(module)
        if other is None or other == me or other not in RANK:
            continue
        if RANK[other] > RANK[me] or (
            RANK[other] == RANK[me] and (me, other) not in ALLOWED_SIDEWAYS
        ):
            bad.append(
                f"{path.name}:{lineno} imports {module} ({me} rank {RANK[me]} -> {other} rank {RANK[other]})"
            )
    return bad


FILES = sorted(p for p in PKG.rglob("*.py") if "migrations" not in p.parts)


def test_every_layer_has_a_rank():
    layers = {_layer_of(p) for p in FILES} - {"__init__", "__main__"}
    assert layers <= set(RANK), f"give these modules a rank: {sorted(layers - set(RANK))}"


def test_every_rank_is_a_real_layer():
    """A rank for a module that does not exist hides nothing but misleads the reader."""
    layers = {_layer_of(p) for p in FILES} - {"__init__", "__main__"}
    assert set(RANK) <= layers, f"ranks for missing modules: {sorted(set(RANK) - layers)}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(PKG)))
def test_no_upward_or_sideways_import(path):
    bad = violations(path)
    assert not bad, "\n".join(bad)


PLANTED = {
    # (module path under workbench/, source): each must be reported
    ("signals/_probe.py", "from workbench.widgets import something\n"),
    ("signals/_probe_rel.py", "from ..widgets.weekly import html_table\n"),
    ("plotting/_probe.py", "import workbench.widgets.live_plot\n"),
    ("planning/_probe.py", "from workbench.reports import run_batch\n"),
    ("planning/_probe_side.py", "from workbench.bfr import limits\n"),
    ("readiness/_probe.py", "def f():\n    from workbench.planning import weekly_plan\n"),
}


def _plant(tmp_path: Path, rel: str, source: str) -> tuple[Path, Path]:
    pkg = tmp_path / "workbench"
    path = pkg / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.parent / "__init__.py").touch()
    path.write_text(source)
    return pkg, path


@pytest.mark.parametrize("rel, source", sorted(PLANTED))
def test_checker_catches_a_planted_violation(tmp_path, rel, source):
    """The checker itself fails on a planted upward/sideways import (a test that cannot fail
    is a defect)."""
    pkg, path = _plant(tmp_path, rel, source)
    bad = violations(path, pkg)
    assert len(bad) == 1, bad
    assert path.name in bad[0]


def test_checker_passes_allowed_imports(tmp_path):
    pkg, path = _plant(
        tmp_path,
        "widgets/_probe.py",
        "from workbench.planning import weekly_plan\nfrom workbench.plotting import minmax_decimate\n"
        "from workbench.widgets import weekly\nfrom . import readiness\nimport numpy\n",
    )
    assert violations(path, pkg) == []


VIEWS = ("widgets", "reports", "dashboards")
#: Domain logic that must live below the views (issue 13): defined only in these layers.
DOMAIN = {
    "weekly_plan": "planning",
    "plan_context": "planning",
    "recovery_status": "planning",
    "mobility_priorities": "planning",
    "PlanContext": "planning",
    "WeeklyPlan": "planning",
    "minmax_decimate": "plotting",
    "bin_decimate": "plotting",
}


def test_domain_logic_is_not_defined_in_views():
    """The weekly planner and pure algorithms live in domain modules that widgets, reports
    and dashboards call; a view module never defines them."""
    found = {}
    for path in FILES:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name in DOMAIN:
                found.setdefault(node.name, []).append(_layer_of(path))
    for name, home in DOMAIN.items():
        assert found.get(name) == [home], f"{name} defined in {found.get(name)}, expected {home}"
        assert all(RANK[home] < RANK[v] for v in VIEWS)
