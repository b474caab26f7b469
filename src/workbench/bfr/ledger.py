"""Inflation-time ledger that survives kernel restarts (BFR-SAFETY req 5).

A small JSON file (default ``state_dir()/bfr_time_ledger.json``) holds, per key
``athlete:limb:side:YYYY-MM-DD``, the cumulative inflated seconds, whether the cuff was
inflated at the last save and the wall-clock end of any reperfusion lock-out. It is written
atomically (temp file, fsync, rename, fsync of the folder). A ledger that was saved while
inflated (the kernel died) is read conservatively: one extra second is charged and a
reperfusion lock-out starts at the last save. Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from workbench.config import state_dir
from workbench.errors import StoreError

LEDGER_FILE = "bfr_time_ledger.json"


def ledger_key(athlete_id: str, limb: str, side: str, day: str) -> str:
    """Key of one limb on one day (``day`` as ``YYYY-MM-DD``)."""
    return f"{athlete_id}:{limb}:{side}:{day}"


class TimeLedger:
    """Persisted cumulative inflation and lock-out per limb and day; thread-safe.

    Parameters
    ----------
    path:
        JSON file; ``"default"`` uses ``state_dir()``; ``None`` keeps it in memory only.
    wall_clock:
        Wall-clock seconds (epoch); lock-outs must survive a restart, so they are wall time.
    reperfusion_s:
        Lock-out charged when a ledger saved while inflated is loaded.
    """

    def __init__(
        self,
        path: str | Path | None = "default",
        *,
        wall_clock: Callable[[], float] = time.time,
        reperfusion_s: float = 180.0,
    ) -> None:
        self.path = (
            Path(state_dir() / LEDGER_FILE)
            if path == "default"
            else (None if path is None else Path(path))
        )
        self.wall_clock = wall_clock
        self._lock = threading.Lock()
        self._data: dict[str, dict] = {}
        self._dirty = False
        if self.path is not None and self.path.exists():
            try:
                raw = json.loads(self.path.read_text())
            except (OSError, json.JSONDecodeError) as exc:
                raise StoreError(
                    f"BFR time ledger {self.path} is unreadable ({exc}); inflation is refused "
                    "until it is repaired or an administrator removes it"
                ) from exc
            for key, rec in raw.get("limbs", {}).items():
                if rec.get("inflated"):
                    rec["cumulative_s"] = float(rec.get("cumulative_s", 0.0)) + 1.0
                    rec["inflated"] = False
                    until = float(rec.get("updated_wall", self.wall_clock())) + reperfusion_s
                    rec["lockout_until_wall"] = max(
                        float(rec.get("lockout_until_wall") or 0), until
                    )
                    self._dirty = True
                self._data[key] = rec

    def _rec(self, key: str) -> dict:
        return self._data.setdefault(
            key,
            {
                "cumulative_s": 0.0,
                "inflated": False,
                "lockout_until_wall": None,
                "updated_wall": None,
            },
        )

    def cumulative_s(self, key: str) -> float:
        """Inflated seconds so far for ``key``."""
        with self._lock:
            return float(self._rec(key)["cumulative_s"])

    def add_inflated(self, key: str, dt_s: float) -> float:
        """Charge ``dt_s`` of inflation (marks the limb inflated); returns the new total."""
        with self._lock:
            rec = self._rec(key)
            rec["cumulative_s"] = float(rec["cumulative_s"]) + max(0.0, float(dt_s))
            rec["inflated"] = True
            rec["updated_wall"] = self.wall_clock()
            self._dirty = True
            return rec["cumulative_s"]

    def set_deflated(self, key: str) -> None:
        """The cuff is vented (below 20 mmHg)."""
        with self._lock:
            rec = self._rec(key)
            if rec["inflated"]:
                rec["inflated"] = False
                rec["updated_wall"] = self.wall_clock()
                self._dirty = True

    def start_lockout(self, key: str, duration_s: float) -> None:
        """Forbid inflation of ``key`` for ``duration_s`` of wall time."""
        with self._lock:
            rec = self._rec(key)
            until = self.wall_clock() + duration_s
            rec["lockout_until_wall"] = max(float(rec["lockout_until_wall"] or 0.0), until)
            self._dirty = True

    def lockout_remaining_s(self, key: str) -> float:
        """Seconds of reperfusion lock-out left (0 if none)."""
        with self._lock:
            until = self._rec(key)["lockout_until_wall"]
        return 0.0 if until is None else max(0.0, float(until) - self.wall_clock())

    def save(self) -> None:
        """Write the ledger atomically with fsync (no-op in memory or when unchanged)."""
        if self.path is None:
            return
        with self._lock:
            if not self._dirty:
                return
            text = json.dumps({"version": 1, "limbs": self._data}, indent=1, sort_keys=True)
            self._dirty = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
