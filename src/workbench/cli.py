"""``workbench`` command line: everything a person or a scheduler runs.

Every command honours ``WORKBENCH_DB_URL`` (or ``--db URL``, which overrides it).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from workbench.config import DB_URL_ENV, default_db_url, project_root
from workbench.errors import WorkbenchError

Command = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def command(name: str, help: str):  # noqa: A002
    """Register a sub-command: decorate ``run(args) -> exit code``; ``configure`` adds its options."""

    def wrap(configure: Callable[[argparse.ArgumentParser], None]):
        def deco(run: Command) -> Command:
            _COMMANDS[name] = (run, configure, help)
            return run

        return deco

    return wrap


def _open(args: argparse.Namespace):
    from workbench.store import open_store

    return open_store(args.db)


# ---------------------------------------------------------------------------- demo
def _demo_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--athletes", type=int, default=12, help="squad size (default 12)")
    p.add_argument(
        "--days", type=int, default=180, help="days of history ending today (default 180)"
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (same seed, same squad)")
    p.add_argument("--end-date", default=None, help="last day YYYY-MM-DD (default today)")
    p.add_argument(
        "--no-recordings", action="store_true", help="skip live-signal and BFR recordings"
    )


@command("demo", "build the deterministic demo squad into the database")(_demo_opts)
def cmd_demo(args: argparse.Namespace) -> int:
    import datetime as dt
    import time

    from workbench.demo import generate_demo

    store = _open(args)
    try:
        if not store.athletes().empty:
            print(
                f"{store.url} already holds athletes; nothing done (use another --db for a fresh squad)"
            )
            return 0
        end = dt.date.fromisoformat(args.end_date) if args.end_date else None
        t0 = time.perf_counter()
        summary = generate_demo(
            store,
            athletes=args.athletes,
            days=args.days,
            seed=args.seed,
            end_date=end,
            recordings=not args.no_recordings,
            progress=lambda msg: print(f"  {msg}", file=sys.stderr),
        )
        print(f"demo squad written to {store.url} in {time.perf_counter() - t0:.1f} s")
        print(summary)
    finally:
        store.close()
    return 0


# ---------------------------------------------------------------------------- info
@command("info", "where the database is and what it holds")(lambda p: None)
def cmd_info(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        print(f"database: {store.url} ({store.dialect})")
        source = "--db" if args.db else (DB_URL_ENV if os.environ.get(DB_URL_ENV) else "default")
        print(f"selected by: {source}")
        counts = store.counts()
        width = max(map(len, counts))
        for table, n in counts.items():
            print(f"  {table:<{width}}  {n:>10,}")
        athletes = store.athletes()
        if not athletes.empty:
            hrv = store.hrv_readings(with_rr=False)
            first, last = (hrv["date"].min(), hrv["date"].max()) if not hrv.empty else (None, None)
            print(f"athletes: {len(athletes)} ({', '.join(sorted(athletes['sport'].unique()))})")
            if first is not None:
                print(f"HRV readings from {first:%Y-%m-%d} to {last:%Y-%m-%d}")
        if store.dialect == "sqlite":
            print(f"integrity_check: {store.integrity_check()}")
    finally:
        store.close()
    return 0


# -------------------------------------------------------------------------- import
def _import_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="*", type=Path, help="files to import")
    p.add_argument("--athlete", default=None, help="athlete id the data belongs to")
    p.add_argument(
        "--rr-unit", choices=["ms", "s"], default=None, help="override RR unit detection"
    )
    p.add_argument("--list-formats", action="store_true", help="list supported formats and exit")


@command("import", "import device and app files (FIT, RR text, wearable CSVs, NIRS, EMG)")(
    _import_opts
)
def cmd_import(args: argparse.Namespace) -> int:
    from workbench.ingest import ImportContext, import_file, importers

    if args.list_formats:
        for imp in importers():
            print(f"{imp.name:<24} {imp.description}")
        return 0
    if not args.files:
        print("error: no files given (or use --list-formats)", file=sys.stderr)
        return 2
    from workbench.ingest import AlreadyImportedError

    ctx = ImportContext(athlete_id=args.athlete, rr_unit=args.rr_unit)
    store = _open(args)
    failed = 0
    try:
        if args.athlete is not None and store.read("athletes", athlete_id=args.athlete).empty:
            print(f"error: no athlete {args.athlete!r} in {store.url}", file=sys.stderr)
            return 2
        for path in args.files:
            try:
                written = import_file(store, path, ctx)
            except AlreadyImportedError as exc:  # idempotent: the same file is not stored twice
                print(f"skipped {path}: {exc.reason}")
                continue
            except WorkbenchError as exc:
                failed += 1
                msg = str(exc)
                print(f"error: {msg if str(path) in msg else f'{path}: {msg}'}", file=sys.stderr)
                continue
            rows = ", ".join(f"{n} {t}" for t, n in written.items())
            print(f"imported {path} ({getattr(written, 'format', '?')}): {rows}")
            for note in getattr(written, "notes", []):
                print(f"  - {note}")
    finally:
        store.close()
    return 1 if failed else 0


# ----------------------------------------------------------------------------- lab
def _lab_opts(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=8888)
    p.add_argument(
        "--no-demo",
        action="store_true",
        help="do not build the demo squad when the database is empty",
    )
    p.add_argument(
        "--root-dir",
        type=Path,
        default=None,
        help="folder JupyterLab serves (default: the project's notebooks/)",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="prepare and print the JupyterLab command only"
    )


def _mark_interrupted(store) -> None:
    """At start-up: nothing records yet, so a ``recording``/``running`` row is a dead kernel's."""
    from workbench.bfr.audit import mark_stale_bfr_sessions_interrupted
    from workbench.recording import mark_stale_recordings_interrupted

    bfr = mark_stale_bfr_sessions_interrupted(store)
    recs = mark_stale_recordings_interrupted(store)
    if bfr or recs:
        print(f"marked interrupted (left open by a killed kernel): {len(recs)} recording(s), "
              f"{len(bfr)} BFR session(s)")  # fmt: skip


def lab_config_dir() -> Path:
    """Jupyter config folder ``workbench lab`` puts first on ``JUPYTER_CONFIG_PATH``.

    Its ``labconfig/page_config.json`` disables JupyterLab's busy tab icon: the icon is
    fetched again on every kernel busy/idle flip (about 9 times a second with the webcam
    screen), which costs the kernel 15-20 ms per camera frame on 2 cores. The kernel's
    busy state stays visible in the status bar and the notebook toolbar.
    """
    return Path(__file__).resolve().parent / "lab_config"


@command("lab", "build the demo squad if absent and serve JupyterLab on 127.0.0.1 with notebooks/")(
    _lab_opts
)
def cmd_lab(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        _mark_interrupted(store)  # recordings and BFR sessions of a killed kernel
        empty = store.athletes().empty
        url = store.url
    finally:
        store.close()
    if empty and not args.no_demo:
        print(f"database {url} is empty: building the demo squad first")
        demo_args = argparse.Namespace(
            db=args.db,
            athletes=12,
            days=180,
            seed=42,
            end_date=None,
            no_recordings=False,
        )
        cmd_demo(demo_args)
    notebooks = args.root_dir.resolve() if args.root_dir else project_root() / "notebooks"
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={args.port}",
        f"--ServerApp.root_dir={notebooks}",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    if args.db:
        os.environ[DB_URL_ENV] = args.db
    extra = os.environ.get("JUPYTER_CONFIG_PATH")
    os.environ["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        p for p in (str(lab_config_dir()), extra) if p
    )
    print(" ".join(cmd))
    if args.dry_run:
        return 0
    os.execv(sys.executable, cmd)
    return 0  # not reached


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every registered sub-command."""
    _load_plugins()
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", default=None, help=f"database URL (default ${DB_URL_ENV} or {default_db_url()})"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (run, configure, help_text) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(run=run)
    return parser


def _load_plugins() -> None:
    """Sub-commands of higher layers: each module lists ``COMMANDS = [(name, help, configure, run)]``.

    (They cannot import this module: ``cli`` is the top layer.)
    """
    import importlib
    import importlib.util

    for module in ("workbench.reports.cli", "workbench.dashboards.cli"):
        if importlib.util.find_spec(module.rsplit(".", 1)[0]) and importlib.util.find_spec(module):
            for name, help_text, configure, run in importlib.import_module(module).COMMANDS:
                _COMMANDS[name] = (run, configure, help_text)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script."""
    from workbench.log import configure

    configure()
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except WorkbenchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
