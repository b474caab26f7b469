"""``workbench dashboard``: serve the coach dashboards with Voilà (plugged in via COMMANDS)."""

from __future__ import annotations

import argparse
import os
import sys

from workbench.config import DB_URL_ENV, project_root

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def dashboards_dir() -> str:
    """``notebooks/dashboards`` of the project."""
    return str(project_root() / "notebooks" / "dashboards")


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``workbench dashboard``."""
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--token", default=None, help="access token (required off loopback)")
    p.add_argument("--pool-size", type=int, default=1, help="preheated kernels per dashboard")
    p.add_argument("--no-preheat", action="store_true", help="start a kernel per visit instead")
    p.add_argument("--dry-run", action="store_true", help="print the Voilà command only")


def voila_command(args: argparse.Namespace) -> list[str]:
    """The Voilà command line for ``args``; :class:`ValueError` when the binding is unsafe."""
    if args.ip not in LOOPBACK and not args.token:
        raise ValueError(
            f"refusing to serve on {args.ip} without --token: anyone on the network could "
            "open the dashboards; pass --token T (or keep the default 127.0.0.1)"
        )
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be 1-65535, got {args.port}")
    cmd = [
        sys.executable,
        "-m",
        "voila",
        "--no-browser",
        f"--port={args.port}",
        f"--Voila.ip={args.ip}",
        "--show_tracebacks=False",
    ]
    if not args.no_preheat and args.pool_size > 0:
        cmd += ["--preheat_kernel=True", f"--pool_size={args.pool_size}"]
    if args.token:
        cmd.append(f"--token={args.token}")
    cmd.append(dashboards_dir())
    return cmd


def run(args: argparse.Namespace) -> int:
    """Serve the dashboards (replaces this process with Voilà); 2 when the binding is refused."""
    try:
        cmd = voila_command(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.db:
        os.environ[DB_URL_ENV] = args.db
    shown = [c if not c.startswith("--token=") else "--token=***" for c in cmd]
    print(" ".join(shown))
    host = f"[{args.ip}]" if ":" in args.ip else args.ip
    print(f"squad overview: http://{host}:{args.port}/voila/render/squad_overview.ipynb")
    if args.dry_run:
        return 0
    sys.stdout.flush()
    os.execv(sys.executable, cmd)
    return 0  # not reached


COMMANDS = [("dashboard", "serve the coach dashboards (Voilà) on 127.0.0.1", configure, run)]
