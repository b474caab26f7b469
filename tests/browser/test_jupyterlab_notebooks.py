"""Every notebook runs top to bottom in the JupyterLab UI itself, as a sports scientist runs it.

JupyterLab is started the way ``scripts/lab`` starts it (``workbench lab``), on a copy of
``notebooks/`` so that nothing the run writes lands in git. Each notebook is opened in the
browser, run with the menu's Run > Run All Cells, and its notebook model (what the user sees)
must then hold an execution count for every code cell and no error output. Per notebook, the
part a user looks at is checked too: the live plot keeps moving, the BFR panel renders, the
mobility results table appears.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path

import pytest

from conftest import LAB_SETTINGS, free_port, launch_chromium, serve

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
SCREENS = Path(__file__).resolve().parent / "screens"
TOKEN = "workbench-browser-test"

NOTEBOOKS = [
    "00_start_here.ipynb",
    "readiness_review.ipynb",
    "live_signals.ipynb",
    "mobility_screen.ipynb",
    "bfr_session.ipynb",
    "reports/weekly_report.ipynb",
    "dashboards/squad_overview.ipynb",
    "dashboards/sessions.ipynb",
]


# State of the open notebook, read from JupyterLab's own model (exposed for the test).
NOTEBOOK_STATE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.sessionContext) return null;
  const kernel = w.sessionContext.session && w.sessionContext.session.kernel;
  const cells = w.content.widgets.filter((c) => c.model.type === "code");
  return {
    kernel: kernel ? kernel.status : "none",
    running: cells.filter((c) => c.model.executionState === "running").length,
    queued: cells.filter((c) => (c.promptNode && c.promptNode.textContent || "").includes("*")).length,
    notebook: w.context.model.toJSON(),
  };
}"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab via ``workbench lab`` on a copy of notebooks/, with a known token."""
    work = tmp_path_factory.mktemp("lab")
    root = work / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    config = work / "config"
    settings = work / "settings"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "LabApp": {
                    "expose_app_in_browser": True,
                    "user_settings_dir": str(settings),
                    "workspaces_dir": str(work / "workspaces"),
                }
            }
        )
    )
    for name, values in LAB_SETTINGS.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    port = free_port()
    # As scripts/lab: an empty database gets the demo squad before JupyterLab starts.
    cmd = [sys.executable, "-m", "workbench", "lab", "--port", str(port), "--root-dir", str(root)]
    env = {
        "JUPYTER_TOKEN": TOKEN,
        "JUPYTER_CONFIG_DIR": str(config),
        "WORKBENCH_DB_URL": f"sqlite:///{work / 'workbench.db'}",
        "WORKBENCH_DATA_DIR": str(work / "data"),
    }
    with serve(cmd, port=port, cwd=work, env=env, timeout_s=180) as url:
        yield url, work


def _wait_idle(page, timeout_s: float) -> dict:
    """Poll the notebook until the kernel is idle with nothing running or queued for 3 s."""
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    state = None
    while time.monotonic() < deadline:
        state = page.evaluate(NOTEBOOK_STATE_JS)
        busy = state is None or state["kernel"] != "idle" or state["running"] or state["queued"]
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= 3.0:
            return state
        time.sleep(0.5)
    raise AssertionError(
        f"notebook still busy after {timeout_s:.0f} s: {state and state['kernel']}"
    )


def _errors(notebook: dict) -> list[str]:
    """Each code cell that never ran or has an error output, described in one line."""
    problems = []
    for i, cell in enumerate(c for c in notebook["cells"] if c["cell_type"] == "code"):
        first = "".join(cell["source"]).strip().splitlines()[:1]
        where = f"code cell {i + 1} ({first[0][:60] if first else 'empty'})"
        if cell.get("execution_count") is None:
            problems.append(f"{where}: not executed")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                problems.append(f"{where}: {out.get('ename')}: {out.get('evalue')}"[:400])
    return problems


def _run_all(page, url: str, name: str) -> None:
    page.goto(f"{url}lab/tree/{name}?reset&token={TOKEN}")
    page.wait_for_function(
        "() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
        " && window.jupyterapp.shell.currentWidget.sessionContext"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel"
        " && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'",
        timeout=90_000,
    )
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item", has=page.get_by_text("Run All Cells", exact=True)).click()
    # Run All has begun once the first code cell runs or has run.
    page.wait_for_function(
        """() => {
          const w = window.jupyterapp.shell.currentWidget;
          const c = w.content.widgets.find((c) => c.model.type === "code");
          return c && (c.model.executionState === "running" || c.model.executionCount !== null);
        }""",
        timeout=60_000,
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_clean_in_jupyterlab(lab, playwright_instance, name):
    url, _work = lab
    browser = launch_chromium(playwright_instance)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _run_all(page, url, name)
        if name == "live_signals.ipynb":
            _assert_live_plot_moves(page)
        state = _wait_idle(page, timeout_s=300)
        SCREENS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENS / f"lab_{name.replace('/', '_')}.png"), full_page=True)
        problems = _errors(state["notebook"])
        assert not problems, f"{name} in JupyterLab:\n" + "\n".join(problems)
        if name == "bfr_session.ipynb":
            panel = page.locator(".wb-bfr-badge").first
            panel.wait_for(state="visible", timeout=30_000)
            assert panel.inner_text().strip(), "BFR panel rendered no state badge"
        if name == "mobility_screen.ipynb":
            tables = page.locator(".jp-OutputArea-output table")
            assert tables.count() >= 1, "no results table in the mobility notebook's outputs"
            headers = " ".join(tables.nth(i).inner_text() for i in range(tables.count()))
            assert "priority" in headers and "lsi_pct" in headers, "results table missing"
    finally:
        browser.close()


def _assert_live_plot_moves(page) -> None:
    """While the recording cell runs, the plot's pixels change from one second to the next."""
    canvas = page.locator(".jp-OutputArea-output canvas:visible")
    canvas.first.wait_for(state="visible", timeout=90_000)
    page.wait_for_timeout(2000)
    frames = []
    for _ in range(3):
        frames.append(canvas.first.screenshot())
        page.wait_for_timeout(1200)
    changes = sum(a != b for a, b in zip(frames, frames[1:], strict=False))
    assert changes >= 1, "the live plot did not change over 2.4 s of recording"
