"""``workbench dashboard``: serve the coach dashboards with Voilà (plugged in via COMMANDS)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from workbench.config import DB_URL_ENV, project_root

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
#: JupyterLab extensions the dashboards do not use (not sent to the browser).
UNUSED_EXTENSIONS = ("anywidget", "jupyterlab_pygments", "@voila-dashboards/jupyterlab-preview")
#: Environment variable holding the dashboard access token (not visible in ``ps``).
TOKEN_ENV = "WORKBENCH_DASHBOARD_TOKEN"


def dashboards_dir() -> str:
    """``notebooks/dashboards`` of the project."""
    return str(project_root() / "notebooks" / "dashboards")


def configure(p: argparse.ArgumentParser) -> None:
    """Options of ``workbench dashboard``."""
    p.add_argument("--port", type=int, default=8866, help="port (default 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument(
        "--token-file",
        default=None,
        metavar="PATH",
        help=f"file holding the access token (required off loopback; or set {TOKEN_ENV})",
    )
    p.add_argument(
        "--token",
        default=None,
        help=f"access token on the command line (visible in ps: prefer {TOKEN_ENV} or --token-file)",
    )
    p.add_argument("--pool-size", type=int, default=1, help="preheated kernels per dashboard")
    p.add_argument("--no-preheat", action="store_true", help="start a kernel per visit instead")
    p.add_argument(
        "--warm-timeout",
        type=float,
        default=180.0,
        metavar="S",
        help="longest wait for the preheated kernels before reporting ready (default 180)",
    )
    p.add_argument("--dry-run", action="store_true", help="print the Voilà command only")


def resolve_token(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> str | None:
    """The access token from ``--token-file``, else ``$WORKBENCH_DASHBOARD_TOKEN``, else
    ``--token``; ``None`` when none is given. :class:`ValueError` for an unreadable or empty
    file."""
    env = os.environ if environ is None else environ
    path = getattr(args, "token_file", None)
    if path:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read --token-file {path}: {exc.strerror}") from exc
        if not token:
            raise ValueError(f"--token-file {path} is empty")
        return token
    return env.get(TOKEN_ENV, "").strip() or getattr(args, "token", None) or None


def voila_command(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> list[str]:
    """The Voilà command line for ``args``; :class:`ValueError` when the binding is unsafe.

    The token never appears in it: Voilà reads it from ``JUPYTER_TOKEN`` in the environment
    of :func:`voila_environment` (``--Voila.auto_token=True`` turns that check on).
    """
    token = resolve_token(args, environ)
    if args.ip not in LOOPBACK and not token:
        raise ValueError(
            f"refusing to serve on {args.ip} without a token: anyone on the network could "
            f"open the dashboards; set {TOKEN_ENV} or pass --token-file PATH "
            "(or keep the default 127.0.0.1)"
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
        # front-end extensions no dashboard uses: less JavaScript before the page is live
        f"--VoilaConfiguration.extension_denylist={list(UNUSED_EXTENSIONS)!r}",
    ]
    if not args.no_preheat and args.pool_size > 0:
        cmd += ["--preheat_kernel=True", f"--pool_size={args.pool_size}"]
    if token:
        cmd.append("--Voila.auto_token=True")
    cmd.append(dashboards_dir())
    return cmd


def voila_environment(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for the Voilà process: ``JUPYTER_TOKEN`` set to the token (when one is
    given), the database URL of ``--db``, and no token of ours left under our own name."""
    env = dict(os.environ if environ is None else environ)
    token = resolve_token(args, environ)
    env.pop(TOKEN_ENV, None)
    env.pop("JUPYTER_TOKEN_FILE", None)
    if token:
        env["JUPYTER_TOKEN"] = token
    else:
        env.pop("JUPYTER_TOKEN", None)
    if getattr(args, "db", None):
        env[DB_URL_ENV] = args.db
    return env


def preheated_notebooks(args: argparse.Namespace) -> list[str]:
    """Dashboard notebooks whose kernels are warmed before ``ready`` (none with --no-preheat)."""
    if args.no_preheat or args.pool_size <= 0:
        return []
    return sorted(p.stem for p in Path(dashboards_dir()).glob("*.ipynb"))


def _port_open(ip: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET) as s:
        s.settimeout(0.5)
        return s.connect_ex((ip if ip != "0.0.0.0" else "127.0.0.1", port)) == 0


def _serve(cmd: list[str], env: dict[str, str], args: argparse.Namespace, url: str) -> int:
    """Run Voilà as a child; print ``ready`` once it listens and its preheated kernels have
    run their notebooks; return Voilà's exit code."""
    import signal
    import subprocess
    import tempfile
    import time

    from workbench.dashboards.warm import READY_DIR_ENV, wait_until_warm

    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wb-dashboard-") as ready_dir:
        env = {**env, READY_DIR_ENV: ready_dir}
        proc = subprocess.Popen(cmd, env=env)

        def stop(signum, _frame):  # noqa: ANN001 - signal handler
            proc.send_signal(signum)

        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, stop)
        try:
            while proc.poll() is None and not _port_open(args.ip, args.port):
                time.sleep(0.1)
            cold = wait_until_warm(
                ready_dir,
                preheated_notebooks(args),
                timeout_s=args.warm_timeout,
                alive=lambda: proc.poll() is None,
            )
            if proc.poll() is None:
                note = f"; still warming: {', '.join(cold)}" if cold else ""
                print(f"ready in {time.monotonic() - t0:.1f} s: {url}{note}", flush=True)
            return proc.wait()
        except KeyboardInterrupt:  # Ctrl-C reaches Voilà too (same process group)
            try:
                return proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                return proc.wait()


def run(args: argparse.Namespace) -> int:
    """Serve the dashboards until Voilà exits; 2 when the binding is refused.

    ``ready`` is printed once Voilà listens and the preheated kernels have run the dashboard
    notebooks, so the first visit is as fast as the later ones.
    """
    try:
        cmd = voila_command(args)
        env = voila_environment(args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.token:
        print(
            f"warning: --token is visible to every user in ps; set {TOKEN_ENV} or use "
            "--token-file instead",
            file=sys.stderr,
        )
    print(" ".join(cmd))
    host = f"[{args.ip}]" if ":" in args.ip else args.ip
    url = f"http://{host}:{args.port}/voila/render/squad_overview.ipynb"
    print(f"squad overview: {url}", flush=True)
    if args.dry_run:
        return 0
    return _serve(cmd, env, args, url)


COMMANDS = [("dashboard", "serve the coach dashboards (Voilà) on 127.0.0.1", configure, run)]
