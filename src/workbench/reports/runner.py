"""Batch rendering of weekly reports: papermill per athlete, parallel workers, atomic files.

For each athlete :func:`render_report` executes ``notebooks/reports/weekly_report.ipynb`` with
papermill, converts it to self-contained HTML (code hidden, BokehJS inline, no CDN script),
and writes ``<out>/<week>/<athlete>.html`` and ``<athlete>.json`` (key figures) through a
temporary file in the same folder and :func:`os.replace`: a failed report never overwrites a
good one. :func:`run_batch` runs many in a process pool (or on Dask distributed) and writes the
squad index ``<out>/<week>/index.html`` (plus ``index.json``) listing every error.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import subprocess
import tempfile
import time
import traceback
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from workbench.config import project_root
from workbench.errors import ConfigError
from workbench.log import get_logger
from workbench.readiness.advice import format_score

log = get_logger(__name__)

TEMPLATE = Path(__file__).with_name("templates") / "offline.html.j2"
CHROMIUM = "/usr/bin/chromium"


def default_notebook() -> Path:
    """``notebooks/reports/weekly_report.ipynb`` of the project."""
    return project_root() / "notebooks" / "reports" / "weekly_report.ipynb"


def default_out_dir() -> Path:
    """``reports/`` under the project root."""
    return project_root() / "reports"


@dataclass(frozen=True)
class ReportJob:
    """One report to render (picklable: it crosses process and Dask boundaries)."""

    athlete_id: str
    week: str
    out_dir: str
    db_url: str
    notebook: str
    pdf: bool = False
    timeout_s: float = 600.0


@dataclass
class ReportResult:
    """Outcome of one job: ``ok``, the files written, key figures or the error."""

    athlete_id: str
    week: str
    ok: bool
    seconds: float
    html: str | None = None
    json: str | None = None
    pdf: str | None = None
    error: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def notebook_to_html(nb) -> str:  # noqa: ANN001
    """Self-contained HTML of an executed notebook: inputs and prompts hidden, no CDN scripts."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        template_file=str(TEMPLATE),
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_markdown=True,
    )
    body, _ = exporter.from_notebook_node(nb)
    return body


def html_to_pdf(
    html_path: Path, pdf_path: Path, *, chromium: str = CHROMIUM, timeout_s: float = 120.0
) -> None:
    """Print a self-contained HTML report to PDF with headless Debian chromium (atomically).

    Chromium runs in a private temporary folder that holds its profile, its HOME and a copy of
    the page, with D-Bus disabled, so it needs nothing of the user's session; ``--no-sandbox``
    is passed only when running as root, where chromium's sandbox cannot start.
    """
    if not Path(chromium).exists():
        raise ConfigError(f"chromium not found at {chromium}; install Debian's chromium package")
    with tempfile.TemporaryDirectory(prefix="workbench-pdf-") as private:
        home = Path(private)
        page = home / "report.html"
        page.write_bytes(Path(html_path).read_bytes())
        out = home / "report.pdf"
        cmd = [
            chromium,
            "--headless",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            f"--user-data-dir={home / 'profile'}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=5000",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.insert(2, "--no-sandbox")
        env = {
            **os.environ,
            "HOME": str(home),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "DBUS_SESSION_BUS_ADDRESS": "disabled:",
        }
        proc = subprocess.run(
            cmd, capture_output=True, timeout=timeout_s, check=False, env=env, cwd=home
        )
        data = out.read_bytes() if out.exists() else b""
        if proc.returncode != 0 or not data.startswith(b"%PDF"):
            tail = proc.stderr.decode(errors="replace")[-500:]
            raise RuntimeError(f"chromium --print-to-pdf failed ({proc.returncode}): {tail}")
    fd, tmp = tempfile.mkstemp(dir=pdf_path.parent, prefix=f".{pdf_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, pdf_path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def output_path(out_dir: str | Path, *parts: str) -> Path:
    """``out_dir / parts...`` resolved, refused (:class:`ConfigError`) unless it stays under
    ``out_dir``: each part must be one plain path segment (no separator, ``..`` or NUL)."""
    base = Path(out_dir).resolve()
    for part in parts:
        if (
            not part
            or part in (".", "..")
            or any(ch in part for ch in ("/", "\\", "\0"))
            or Path(part).is_absolute()
        ):
            raise ConfigError(f"{part!r} is not a plain file name: refusing it under {base}")
    path = base.joinpath(*parts).resolve()
    if path != base and base not in path.parents:
        raise ConfigError(f"refusing output path {path}: outside {base}")
    return Path(out_dir).joinpath(*parts) if not Path(out_dir).is_absolute() else path


def report_href(file_name: str) -> str:
    """A relative link to ``file_name`` in the same folder: one quoted path segment after
    ``./``, so no scheme (``javascript:``) or folder can come from the data."""
    return "./" + urllib.parse.quote(file_name, safe="")


def _error_text(exc: BaseException) -> str:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
    return f"{type(exc).__name__}: {exc}"


def render_report(job: ReportJob) -> ReportResult:
    """Render one athlete's report; never raises (the error is in the result)."""
    import nbformat
    import papermill as pm

    t0 = time.perf_counter()
    try:
        html_path = output_path(job.out_dir, job.week, f"{job.athlete_id}.html")
        json_path = output_path(job.out_dir, job.week, f"{job.athlete_id}.json")
        week_dir = html_path.parent
        week_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="wb-report-") as tmp:
            out_nb = Path(tmp) / "report.ipynb"
            fig_path = Path(tmp) / "figures.json"
            pm.execute_notebook(
                job.notebook,
                str(out_nb),
                parameters={
                    "athlete_id": job.athlete_id,
                    "iso_week": job.week,
                    "db_url": job.db_url,
                    "figures_path": str(fig_path),
                },
                progress_bar=False,
                log_output=False,
                execution_timeout=job.timeout_s,
                cwd=str(Path(job.notebook).parent),
            )
            body = notebook_to_html(nbformat.read(out_nb, as_version=4))
            figures = json.loads(fig_path.read_text())
        atomic_write(html_path, body)
        atomic_write(json_path, json.dumps(figures, indent=1, default=str))
        pdf = None
        if job.pdf:
            pdf = output_path(job.out_dir, job.week, f"{job.athlete_id}.pdf")
            html_to_pdf(html_path, pdf)
        return ReportResult(
            job.athlete_id,
            job.week,
            True,
            time.perf_counter() - t0,
            html=str(html_path),
            json=str(json_path),
            pdf=None if pdf is None else str(pdf),
            figures=figures,
        )
    except Exception as exc:  # noqa: BLE001 - one athlete's failure must not stop the batch
        log.warning("report %s %s failed: %s", job.athlete_id, job.week, _error_text(exc))
        log.debug("%s", traceback.format_exc())
        return ReportResult(
            job.athlete_id, job.week, False, time.perf_counter() - t0, error=_error_text(exc)
        )


def _run_pool(jobs: list[ReportJob], workers: int) -> Iterable[ReportResult]:
    if workers <= 1 or len(jobs) == 1:
        for job in jobs:
            yield render_report(job)
        return
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(render_report, job) for job in jobs]
        for fut in as_completed(futures):
            yield fut.result()


def _run_dask(jobs: list[ReportJob], workers: int, scheduler: str) -> Iterable[ReportResult]:
    try:
        from distributed import Client, LocalCluster
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise ConfigError(
            "--scheduler needs Dask distributed: pip install 'workbench[dask]'"
        ) from exc

    cluster = None
    if scheduler == "local":
        cluster = LocalCluster(
            n_workers=max(1, workers), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = client.map(render_report, jobs, pure=False)
        for fut in dask_completed(futures):
            yield fut.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def run_batch(
    athlete_ids: list[str],
    week: str,
    *,
    db_url: str,
    out_dir: str | Path | None = None,
    workers: int = 2,
    pdf: bool = False,
    scheduler: str | None = None,
    notebook: str | Path | None = None,
    progress: bool = True,
    on_result: Callable[[ReportResult], None] | None = None,
) -> list[ReportResult]:
    """Render every athlete's report for ``week`` and write the squad index.

    Parameters
    ----------
    athlete_ids:
        Athletes to render.
    week:
        ISO week label ``"YYYY-Www"``.
    db_url:
        Database URL passed to every report.
    out_dir:
        Output root (default ``reports/`` under the project root); files go to ``<out>/<week>/``.
    workers:
        Parallel processes (local pool) or Dask workers (``scheduler="local"``).
    pdf:
        Also print each report to PDF with headless chromium.
    scheduler:
        ``None`` for the local process pool, ``"local"`` for a Dask ``LocalCluster``, or the
        address of a Dask scheduler (``tcp://host:8786``).
    notebook:
        The report notebook (default :func:`default_notebook`).
    progress:
        Show a tqdm progress bar (stderr).

    Returns
    -------
    list[ReportResult]
        In the order of ``athlete_ids``.
    """
    out = Path(out_dir) if out_dir is not None else default_out_dir()
    nb = Path(notebook) if notebook is not None else default_notebook()
    if not nb.exists():
        raise ConfigError(f"report notebook not found: {nb}")
    week_dir = output_path(out, week)  # a bad week label fails before any work
    jobs = [
        ReportJob(a, week, str(out.resolve()), db_url, str(nb.resolve()), pdf) for a in athlete_ids
    ]
    runner = _run_dask(jobs, workers, scheduler) if scheduler else _run_pool(jobs, workers)
    results: dict[str, ReportResult] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc=f"reports {week}", unit="athlete")
    try:
        for res in runner:
            results[res.athlete_id] = res
            if on_result:
                on_result(res)
            if bar is not None:
                bar.set_postfix_str(f"{res.athlete_id} {'ok' if res.ok else 'FAILED'}")
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    ordered = [results[a] for a in athlete_ids]
    write_index(week_dir, week, ordered)
    return ordered


def write_index(week_dir: Path, week: str, results: list[ReportResult]) -> Path:
    """Write ``index.html`` and ``index.json`` of a week: one row per athlete, errors listed.

    Rows of an earlier ``index.json`` for athletes not in ``results`` are kept (a run for a
    few athletes does not drop the others from the squad index).
    """
    week_dir = Path(week_dir).resolve()
    week_dir.mkdir(parents=True, exist_ok=True)

    def existing(athlete_id: str, suffix: str) -> str | None:
        try:
            path = output_path(week_dir, f"{athlete_id}{suffix}")
        except ConfigError:
            return None
        return path.name if path.exists() else None

    rows = []
    for r in results:
        fig = r.figures or {}
        old = existing(r.athlete_id, ".json")
        if not r.ok and old:  # a previous good report stays available
            try:
                fig = json.loads((week_dir / old).read_text())
            except ValueError:
                fig = {}
        rows.append(
            {
                "athlete_id": r.athlete_id,
                "name": fig.get("name"),
                "group": fig.get("group"),
                "ok": r.ok,
                "error": r.error,
                "readiness_mean": fig.get("readiness_mean"),
                "readiness_mean_shown": fig.get("readiness_mean_shown")
                or format_score(fig.get("readiness_mean")),
                "band_last": fig.get("band_last"),
                "flags": len(fig.get("flags") or []),
                "html": existing(r.athlete_id, ".html"),
                "pdf": existing(r.athlete_id, ".pdf"),
                "seconds": round(r.seconds, 2),
            }
        )
    done = {r["athlete_id"] for r in rows}
    try:
        previous = json.loads((week_dir / "index.json").read_text())["reports"]
    except (OSError, ValueError, KeyError, TypeError):
        previous = []
    rows += [r for r in previous if isinstance(r, dict) and r.get("athlete_id") not in done]
    rows.sort(key=lambda r: str(r["athlete_id"]))
    n_ok = sum(bool(r["ok"]) for r in rows)
    stamp = dt.datetime.now().replace(microsecond=0).isoformat(sep=" ")
    summary = {
        "week": week,
        "generated": stamp,
        "ok": n_ok,
        "failed": len(rows) - n_ok,
        "reports": rows,
    }
    atomic_write(week_dir / "index.json", json.dumps(summary, indent=1, default=str))
    trs = []
    for r in rows:
        e = html.escape
        athlete = str(r["athlete_id"])
        # links are rebuilt from the id (rows of an old index.json are data, not markup)
        page_name, pdf_name = existing(athlete, ".html"), existing(athlete, ".pdf")
        link = (
            f'<a href="{e(report_href(page_name))}">{e(athlete)}</a>' if page_name else e(athlete)
        )
        if pdf_name:
            link += f' (<a href="{e(report_href(pdf_name))}">PDF</a>)'
        status = "ok" if r["ok"] else f'<span class="err">FAILED: {e(str(r["error"]))}</span>'
        if not r["ok"] and page_name:
            status += " (previous report kept)"
        rm = r.get("readiness_mean_shown") or format_score(r["readiness_mean"])
        trs.append(
            f'<tr class="{"ok" if r["ok"] else "failed"}"><td>{link}</td><td>{e(str(r["name"] or ""))}</td>'
            f"<td>{e(str(r['group'] or ''))}</td><td>{rm}</td><td>{e(str(r['band_last'] or ''))}</td>"
            f"<td>{r['flags']}</td><td>{status}</td></tr>"
        )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Weekly reports {html.escape(week)}</title>
<style>
body {{font-family: system-ui, sans-serif; margin: 24px}}
table {{border-collapse: collapse}} th, td {{padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: left}}
th {{background: #37474f; color: white}} .err {{color: #b71c1c; font-weight: bold}}
</style></head><body>
<h1>Weekly reports {html.escape(week)}</h1>
<p>{n_ok} of {len(rows)} reports written, {len(rows) - n_ok} failed · generated {stamp}</p>
<table id="reports"><thead><tr><th>athlete</th><th>name</th><th>group</th><th>readiness (mean)</th>
<th>latest band</th><th>flags</th><th>status</th></tr></thead><tbody>
{"".join(trs)}
</tbody></table></body></html>
"""
    path = week_dir / "index.html"
    atomic_write(path, page)
    return path


def results_as_dicts(results: list[ReportResult]) -> list[dict[str, Any]]:
    """Results as plain dicts (without the figures)."""
    return [{k: v for k, v in asdict(r).items() if k != "figures"} for r in results]
