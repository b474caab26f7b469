"""Live-signal recordings and BFR sessions of the demo squad (a fixed handful, any squad size).

Three recordings (rowing erg intervals, isometric knee extension with 8-channel EMG, bike
sprints: HR, RR, SmO2/THb, EMG, markers) come from the pure signal simulators. The BFR
sessions of :data:`BFR_SCHEDULE` are run by the real session runner
(:func:`~workbench.bfr.simulation.session_run.run_simulated_session`) in simulated time and
stored as its audit log would: every event is one the supervisor or session emitted
(BFR-SAFETY req 22; why: ``docs/decisions/0004-bfr-control.md``). Runs are cached per input
and BFR source in ``data/cache/demo_bfr`` (signal details: the functions below).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workbench.bfr.audit import PRESSURE_CHANNELS
from workbench.bfr.presets import get_preset
from workbench.bfr.session import session_row_fields
from workbench.bfr.simulation.session_run import run_simulated_session
from workbench.config import data_dir
from workbench.demo.rr import quantise_rr
from workbench.demo.squad import AthleteProfile
from workbench.drivers.simulators import simulate_emg, simulate_rr, simulate_smo2
from workbench.log import get_logger
from workbench.store import Store

log = get_logger(__name__)


def _first_order(drive: np.ndarray, dt_s: float, tau_on_s: float, tau_off_s: float) -> np.ndarray:
    """Asymmetric first-order response of a 0/1 ``drive`` (rising tau_on, falling tau_off)."""
    out = np.empty_like(drive, dtype=np.float64)
    y = 0.0
    a_on, a_off = 1 - np.exp(-dt_s / tau_on_s), 1 - np.exp(-dt_s / tau_off_s)
    for i, x in enumerate(drive):  # a few thousand samples at 10 Hz: cheap
        y += (a_on if x > y else a_off) * (x - y)
        out[i] = y
    return out


def _work_mask(t_s: np.ndarray, bouts: list[tuple[float, float]]) -> np.ndarray:
    m = np.zeros(t_s.shape, dtype=np.float64)
    for a, b, *_ in bouts:
        m[(t_s >= a) & (t_s < b)] = 1.0
    return m


def _hr_rr(rng: np.random.Generator, duration_s: float, bouts, rest_bpm: float, peak_bpm: float):
    """RR beats (times s, RR ms quantised to 1/1024 s) and 1 Hz HR for a work protocol."""
    t10 = np.arange(0, duration_s + 6.0, 0.05)
    hr10 = rest_bpm + (peak_bpm - rest_bpm) * _first_order(_work_mask(t10, bouts), 0.05, 15.0, 30.0)
    beat_t, rr = simulate_rr(
        duration_s,
        hr_profile_bpm=lambda t: np.interp(t, t10, hr10),
        rsa_ms=25.0,
        lf_ms=12.0,
        seed=int(rng.integers(2**31)),
    )
    rr = quantise_rr(rr)
    beat_t = np.cumsum(rr) / 1000.0
    t1 = np.arange(1.0, duration_s)
    hr1 = np.round(np.interp(t1, beat_t, 60000.0 / rr))
    return t1, hr1, beat_t, rr


def _write_stream(
    store, conn, rec_id, name, kind, device, channels, units, fs, t, values, chunk_s, rng
) -> tuple[int, int]:  # noqa: ANN001
    """Declare a stream and append it in chunks; returns (stream_id, chunks written)."""
    sid = store.insert_one(
        "recording_streams",
        {
            "recording_id": rec_id,
            "name": name,
            "kind": kind,
            "device": device,
            "channel_names": json.dumps(channels),
            "units": json.dumps(units),
            "sampling_rate_hz": fs,
        },
        conn=conn,
    )
    host = t + 0.015 + np.abs(rng.normal(0, 0.004, t.size))
    device_t = rng.uniform(1e3, 1e5) + t * (1 + rng.uniform(20e-6, 40e-6))
    edges = np.arange(0.0, t[-1] + chunk_s, chunk_s)
    cuts = np.searchsorted(t, edges[1:-1])
    seq = 0
    for h, d, v in zip(
        np.split(host, cuts), np.split(device_t, cuts), np.split(values, cuts), strict=True
    ):
        if len(h):
            store.append_chunk(sid, seq, h, d, v, conn=conn)
            seq += 1
    return sid, seq


def _pick(profiles: list[AthleteProfile], sport: str, fallback: int) -> AthleteProfile:
    for p in profiles:
        if p.sport == sport:
            return p
    return profiles[fallback % len(profiles)]


def _recording(
    store,
    profile,
    title,
    started_at,
    duration_s,
    bouts,
    peak_bpm,
    depth,
    rng,
    markers_label,
    emg_sets=None,
) -> dict[str, int]:  # noqa: ANN001
    counts = {
        "recordings": 1,
        "recording_streams": 0,
        "recording_chunks": 0,
        "recording_markers": 0,
    }
    with store.transaction() as conn:
        rec = store.insert_one(
            "recordings",
            {
                "title": title,
                "athlete_id": profile.athlete_id,
                "started_at": started_at,
                "ended_at": started_at + dt.timedelta(seconds=duration_s),
                "status": "complete",
                "notes": "demo recording (generated)",
            },
            conn=conn,
        )
        hr_t, hr, beat_t, rr = _hr_rr(rng, duration_s, bouts, profile.rhr_base_bpm + 25, peak_bpm)
        streams = [
            ("heart_rate", "hr", "demo:chest-strap", ["hr_bpm"], ["bpm"], 1.0, hr_t, hr, 10.0),
            ("rr", "rr", "demo:chest-strap", ["rr_ms"], ["ms"], None, beat_t, rr, 10.0),
        ]
        ts = np.arange(0.0, duration_s, 0.5)
        smo2, thb = simulate_smo2(
            ts.size,
            sampling_rate_hz=2.0,
            work=[(a, b, rest[0] if rest else 0.8) for a, b, *rest in bouts],
            baseline_pct=float(rng.uniform(62, 70)),
            work_drop_pct=depth / 0.8,
            tau_work_s=8.0,
            tau_recovery_s=float(rng.uniform(18, 30)),
            seed=int(rng.integers(2**31)),
        )
        streams.append(
            (
                "smo2",
                "smo2",
                "demo:moxy",
                ["smo2_pct", "thb_g_dl"],
                ["%", "g/dL"],
                2.0,
                ts,
                np.column_stack([smo2, thb]),
                10.0,
            )
        )
        if emg_sets is not None:
            te = np.arange(0.0, duration_s, 0.001)
            emg = simulate_emg(
                te.size,
                sampling_rate_hz=1000.0,
                n_channels=8,
                bursts=None,
                contractions=emg_sets,
                fatigue_pct_per_min=40.0,
                seed=int(rng.integers(2**31)),
            )
            muscles = ["vl", "vm", "rf", "bf"]
            names = [f"{m}_{s}" for s in ("left", "right") for m in muscles]
            streams.append(("emg", "emg", "demo:emg-8ch", names, ["uV"] * 8, 1000.0, te, emg, 1.0))
        for name, kind, dev, ch, un, fs, t, v, chunk in streams:
            _, n = _write_stream(store, conn, rec, name, kind, dev, ch, un, fs, t, v, chunk, rng)
            counts["recording_streams"] += 1
            counts["recording_chunks"] += n
        marks = []
        for i, (a, b, *_) in enumerate(bouts, 1):
            marks += [
                (a, f"{markers_label} {i} start", "work_start"),
                (b, f"{markers_label} {i} end", "work_end"),
                (b, f"lap {i}", "lap"),
            ]
        counts["recording_markers"] = store.write(
            "recording_markers",
            [
                {"recording_id": rec, "t_s": float(a), "label": lab, "kind": k}
                for a, lab, k in marks
            ],
            conn=conn,
        )
    return counts


@dataclass(frozen=True)
class DemoBfrSession:
    """One scheduled demo BFR session: who (by sport), when, and the runner's inputs.

    ``true_aop_mmhg`` is the simulated limb's arterial occlusion pressure (the runner measures
    it); ``faults`` are simulator faults (:data:`~workbench.bfr.simulation.cuff.SIM_FAULTS`)
    injected ``fault_at_s`` after the first set starts; ``seed`` varies the simulated plant.
    """

    sport: str
    fallback: int
    days_before: int
    start: dt.time
    limb: str
    side: str
    exercise: str
    preset: str
    percent_aop: float
    true_aop_mmhg: float
    calibration_method: str = "ppg"
    faults: tuple[str, ...] = ()
    fault_at_s: float = 30.0
    seed: int = 0

    def runner_kwargs(self, athlete_id: str) -> dict:
        """Keyword arguments of :func:`run_simulated_session` for ``athlete_id``."""
        return {
            "athlete_id": athlete_id,
            "limb": self.limb,
            "side": self.side,
            "cuff_id": f"demo-{self.limb}-cuff-{self.side[0]}",
            "true_aop_mmhg": self.true_aop_mmhg,
            "preset": get_preset(self.preset),
            "percent_aop": self.percent_aop,
            "exercise": self.exercise,
            "calibration_method": self.calibration_method,
            "faults": self.faults,
            "fault_at_s": self.fault_at_s,
            "seed": self.seed,
            "operator": DEMO_OPERATOR,
            "acknowledge_trips": True,
        }


DEMO_OPERATOR = "A. Coach"
#: The simulated day the runner works on: a run happens in simulated time from 0 s, its
#: stored times are placed on the scheduled session's date.
RUNNER_DAY = dt.date(2026, 1, 5)
#: The athlete the runner works for: a run depends only on its slot (no event names the
#: athlete), so one cached run serves every squad; the stored rows name the real athlete.
RUNNER_ATHLETE = "ath00"

#: Mostly clean sessions, arm and leg, 40-80 % AOP; three with a simulator fault that the
#: supervisor catches (leak, sensor dropout, pump stuck on) and one with a small leak that
#: the regulator compensates without an alarm.
BFR_SCHEDULE: tuple[DemoBfrSession, ...] = (
    DemoBfrSession(
        "powerlifting",
        2,
        20,
        dt.time(16, 0),
        "leg",
        "right",
        "leg press",
        "in_season_athletes",
        60.0,
        196.0,
        seed=11,
    ),
    DemoBfrSession(
        "football",
        1,
        17,
        dt.time(11, 0),
        "leg",
        "left",
        "knee extension",
        "post_injury_rehab",
        70.0,
        182.0,
        calibration_method="doppler",
        seed=12,
    ),
    DemoBfrSession(
        "climbing",
        7,
        15,
        dt.time(15, 30),
        "arm",
        "left",
        "biceps curl",
        "home_smart_cuff",
        40.0,
        128.0,
        seed=13,
    ),
    DemoBfrSession(
        "powerlifting",
        2,
        13,
        dt.time(16, 30),
        "leg",
        "left",
        "leg press",
        "in_season_athletes",
        80.0,
        204.0,
        faults=("leak_0_5mm",),
        seed=14,
    ),
    DemoBfrSession(
        "football",
        1,
        10,
        dt.time(10, 45),
        "leg",
        "right",
        "knee extension",
        "post_injury_rehab",
        60.0,
        176.0,
        faults=("leak_0_1mm",),
        seed=15,
    ),
    DemoBfrSession(
        "climbing",
        7,
        8,
        dt.time(15, 0),
        "arm",
        "right",
        "wrist curl",
        "older_adults",
        50.0,
        134.0,
        faults=("sensor_dropout",),
        fault_at_s=40.0,
        seed=16,
    ),
    DemoBfrSession(
        "rowing",
        0,
        5,
        dt.time(8, 30),
        "arm",
        "left",
        "biceps curl",
        "home_smart_cuff",
        50.0,
        142.0,
        calibration_method="nirs",
        seed=17,
    ),
    DemoBfrSession(
        "powerlifting",
        2,
        2,
        dt.time(17, 15),
        "leg",
        "right",
        "leg press",
        "in_season_athletes",
        70.0,
        200.0,
        faults=("pump_stuck_on",),
        fault_at_s=20.0,
        seed=18,
    ),
)
#: Bump when what a cached run holds changes.
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class BfrRun:
    """What :func:`run_simulated_session` produced, ready to store (times s from its start).

    ``events``: (t_s, kind, code, priority, value, message) of every supervisor/session
    event; ``samples``: one row per control tick, columns ``t_s, device_t_s`` and
    :data:`~workbench.bfr.audit.PRESSURE_CHANNELS`; ``fields``: ``bfr_sessions`` columns.
    """

    status: str
    events: list[tuple]
    samples: np.ndarray
    fields: dict


_IMPORT_RE = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)|import[ \t]+([^\n]+))",
    re.M,
)


@functools.cache
def _runner_fingerprint() -> str:
    """Hash of the source of the runner and of every ``workbench`` module it imports (even
    inside functions): a cached run is reused only for the same code."""
    import workbench

    root = Path(workbench.__file__).parent
    todo, seen = ["workbench.bfr.simulation.session_run"], set()
    h = hashlib.sha256()
    while todo:
        mod = todo.pop()
        if mod in seen:
            continue
        seen.add(mod)
        rel = Path(*mod.split(".")[1:])
        path = root / rel / "__init__.py" if (root / rel).is_dir() else root / f"{rel}.py"
        if not path.is_file():
            continue
        src = path.read_text()
        h.update(f"{mod}\0{src}".encode())
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        for dots, base, names, plain in _IMPORT_RE.findall(src):
            if plain:
                todo += [n.split()[0] for n in plain.split(",") if n.strip()]
                continue
            if dots:
                up = package.split(".")[: len(package.split(".")) - len(dots) + 1]
                base = ".".join(up + ([base] if base else []))
            todo.append(base)
            todo += [f"{base}.{n.split()[0]}" for n in names.strip("()").split(",") if n.split()]
        todo = [m for m in todo if m.startswith("workbench.")]
    return h.hexdigest()


def run_demo_bfr(slot: DemoBfrSession) -> BfrRun:
    """Run one scheduled session with the real runner (simulated time, no store)."""
    samples: list[tuple[float, ...]] = []

    def on_tick(now: float, reading, cmd) -> None:  # noqa: ANN001
        if reading is None:
            row = (now, math.nan, math.nan, math.nan)
        else:
            row = (now, reading.device_t_s, reading.pressure_mmhg, reading.pressure2_mmhg)
        samples.append((*row, cmd.setpoint_mmhg, cmd.pump_duty))

    r = run_simulated_session(
        None, **slot.runner_kwargs(RUNNER_ATHLETE), today=lambda: RUNNER_DAY, on_tick=on_tick
    )
    t0 = r.events[0].t_s  # the session opens at its first event (as the audit log's t0)
    a = np.asarray(samples, dtype=np.float64).reshape(-1, 6)
    a[:, 0] -= t0
    p = a[:, 2]
    fields = session_row_fields(r.session)
    fields["time_under_pressure_s"] = round(r.time_under_pressure_s, 2)
    fields["max_pressure_mmhg"] = float(np.nanmax(p)) if np.isfinite(p).any() else 0.0
    events = [
        (
            e.t_s - t0,
            e.kind,
            e.code,
            e.priority,
            None if e.value is None or not math.isfinite(e.value) else float(e.value),
            e.message,
        )
        for e in r.events
    ]
    return BfrRun(r.status, events, a, fields)


def _cache_path(slot: DemoBfrSession, cache: Path) -> Path:
    key = hashlib.sha256(
        json.dumps(
            [_CACHE_FORMAT, _runner_fingerprint(), repr(slot), RUNNER_ATHLETE, str(RUNNER_DAY)]
        ).encode()
    ).hexdigest()[:32]
    return cache / f"bfr-{key}.npz"


def _cached_run(slot: DemoBfrSession, cache: Path | None) -> BfrRun:
    """:func:`run_demo_bfr`, reused from ``cache`` when the inputs and BFR code are the same."""
    if cache is None:
        return run_demo_bfr(slot)
    path = _cache_path(slot, cache)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(str(z["meta"]))
                return BfrRun(
                    meta["status"], [tuple(e) for e in meta["events"]], z["samples"], meta["fields"]
                )
        except (OSError, ValueError, KeyError) as exc:
            log.warning("demo BFR cache %s unreadable (%s); running the session again", path, exc)
    run = run_demo_bfr(slot)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
    meta = {"status": run.status, "events": run.events, "fields": run.fields}
    np.savez(tmp, samples=run.samples, meta=np.array(json.dumps(meta)))
    os.replace(tmp, path)
    return run


def _store_bfr(
    store: Store, athlete_id: str, started_at: dt.datetime, slot: DemoBfrSession, run: BfrRun
) -> dict[str, int]:
    """Write a run as the audit log writes a session: row, 100 Hz pressure stream, events."""
    a = run.samples
    end_s = max(float(a[-1, 0]) if len(a) else 0.0, run.events[-1][0])
    ended_at = started_at + dt.timedelta(seconds=end_s)
    kw = slot.runner_kwargs(athlete_id)
    with store.transaction() as conn:
        rec = store.create_recording(
            f"BFR {athlete_id} {slot.limb} {slot.side}",
            athlete_id=athlete_id,
            started_at=started_at,
            notes="demo: simulated session (workbench.bfr.simulation.run_simulated_session)",
            conn=conn,
        )
        stream = store.add_stream(
            rec,
            "cuff_pressure",
            kind="pressure",
            device=kw["cuff_id"],
            channel_names=PRESSURE_CHANNELS,
            units=["mmHg", "mmHg", "mmHg", "1"],
            sampling_rate_hz=100.0,
            conn=conn,
        )
        n_chunks = 0
        for seq, lo in enumerate(range(0, len(a), _CHUNK_SAMPLES)):
            c = a[lo : lo + _CHUNK_SAMPLES]
            store.append_chunk(stream, seq, c[:, 0], c[:, 1], c[:, 2:], conn=conn)
            n_chunks += 1
        store.update(
            "recordings",
            {"recording_id": rec},
            {
                "status": "complete" if run.status == "complete" else "interrupted",
                "ended_at": ended_at,
            },
            conn=conn,
        )
        sid = store.insert_one(
            "bfr_sessions",
            {
                "athlete_id": athlete_id,
                "started_at": started_at,
                "ended_at": ended_at,
                "limb": slot.limb,
                "side": slot.side,
                "cuff_id": kw["cuff_id"],
                "status": run.status,
                "recording_id": rec,
                **run.fields,
            },
            conn=conn,
        )
        n_ev = store.write(
            "bfr_events",
            [
                {
                    "session_id": sid,
                    "wall_time": started_at + dt.timedelta(seconds=t),
                    "t_s": t,
                    "kind": kind,
                    "code": code,
                    "priority": prio,
                    "value": val,
                    "message": msg,
                }
                for t, kind, code, prio, val, msg in run.events
            ],
            conn=conn,
        )
    return {
        "recordings": 1,
        "recording_streams": 1,
        "recording_chunks": n_chunks,
        "bfr_sessions": 1,
        "bfr_events": n_ev,
    }


_CHUNK_SAMPLES = 1000  # 10 s at 100 Hz


def write_live_demo(
    store: Store,
    profiles: list[AthleteProfile],
    *,
    end_date: dt.date,
    seed: int,
    bfr_cache_dir: Path | None = None,
    bfr_cache: bool = True,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write the three demo recordings and the BFR sessions of :data:`BFR_SCHEDULE`.

    The BFR sessions are runs of the real session runner, reused from ``bfr_cache_dir``
    (default ``data/cache/demo_bfr``) when the same inputs ran on the same BFR code before;
    ``bfr_cache=False`` always runs them; ``progress`` gets a message per BFR session.
    Returns rows per table.
    """
    say = progress or (lambda _msg: None)
    rng = np.random.default_rng([seed, 99])
    counts: dict[str, int] = {}

    def add(c: dict[str, int]) -> None:
        for k, v in c.items():
            counts[k] = counts.get(k, 0) + v

    def at(days_before: int, hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(end_date - dt.timedelta(days=days_before), dt.time(hour, minute))

    rower = _pick(profiles, "rowing", 0)
    lifter = _pick(profiles, "powerlifting", 2)
    cyclist = _pick(profiles, "cycling", 3)
    bouts = [(20.0 + 35 * i, 40.0 + 35 * i) for i in range(4)]
    add(
        _recording(
            store,
            rower,
            "Rowing erg 4 x 20 s intervals",
            at(3, 9, 30),
            180.0,
            bouts,
            178.0,
            32.0,
            rng,
            "interval",
        )
    )
    sets = [(10.0 + 50 * i, 40.0 + 50 * i, 0.5 + 0.1 * i) for i in range(3)]
    add(
        _recording(
            store,
            lifter,
            "Isometric knee extension 3 x 30 s with EMG",
            at(2, 17, 0),
            150.0,
            sets,
            150.0,
            38.0,
            rng,
            "set",
            emg_sets=sets,
        )
    )
    sprints = [(30.0 + 50 * i, 60.0 + 50 * i) for i in range(3)]
    add(
        _recording(
            store,
            cyclist,
            "Bike 3 x 30 s sprints",
            at(1, 10, 15),
            180.0,
            sprints,
            182.0,
            28.0,
            rng,
            "sprint",
        )
    )
    cache = (bfr_cache_dir or data_dir() / "cache" / "demo_bfr") if bfr_cache else None
    jobs = [(slot, _pick(profiles, slot.sport, slot.fallback).athlete_id) for slot in BFR_SCHEDULE]
    for i, (slot, athlete_id, run) in enumerate(_runs(jobs, cache), 1):
        started_at = dt.datetime.combine(end_date - dt.timedelta(days=slot.days_before), slot.start)
        add(_store_bfr(store, athlete_id, started_at, slot, run))
        say(f"BFR session {i}/{len(jobs)} ({athlete_id}, {slot.limb} {slot.side}): {run.status}")
    return counts


def _runs(jobs: list[tuple[DemoBfrSession, str]], cache: Path | None):
    """Yield ``(slot, athlete_id, run)`` in order; sessions missing from the cache run in
    parallel worker processes (up to 4, one per CPU) when there are several."""
    todo = [slot for slot in dict.fromkeys(s for s, _ in jobs)
            if cache is None or not _cache_path(slot, cache).exists()]  # fmt: skip
    workers = min(len(todo), os.cpu_count() or 1, 4)
    done: dict[int, BfrRun] = {}
    if workers > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["workbench.demo.live"])
        with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            futures = {id(slot): pool.submit(_cached_run, slot, cache) for slot in todo}
            done = {k: f.result() for k, f in futures.items()}
    for slot, athlete_id in jobs:
        run = done.get(id(slot)) or _cached_run(slot, cache)
        yield slot, athlete_id, run


__all__ = ["BFR_SCHEDULE", "BfrRun", "DemoBfrSession", "run_demo_bfr", "write_live_demo"]
