"""Live-signal recordings and BFR sessions of the demo squad (a fixed handful, any squad size).

Recordings (``recordings`` + ``recording_streams`` + ``recording_chunks`` + markers):

1. *Rowing erg 4 x 20 s intervals* (first endurance athlete, 180 s): HR at 1 Hz, RR beats
   (irregular, 1/1024-s quantised), Moxy-like SmO2/THb at 2 Hz.
2. *Isometric knee extension 3 x 30 s with EMG* (the powerlifter, 150 s, 50/60/70 % MVC):
   8-channel surface EMG at 1000 Hz in uV whose median frequency falls during each hold
   (40 %/min), HR, RR, SmO2.
3. *Bike 3 x 30 s sprints* (second endurance athlete, 180 s): HR, RR, SmO2.

Signals come from the pure generators of :mod:`workbench.drivers.simulators` (``simulate_rr``
with a first-order HR response to work, tau 15 s on / 30 s off; ``simulate_smo2`` with
desaturation tau 8 s, recovery tau 18-30 s; ``simulate_emg``), seeded from the demo seed.
Markers: ``work_start``/``work_end`` for every work bout or set and a ``lap`` per interval.
Device clocks differ from host clocks (offset, 20-40 ppm drift, host jitter of a few ms).

BFR sessions (``bfr_sessions``, ``bfr_events`` and a 100 Hz ``pressure`` stream): for up to three
athletes, AOP measured three times, 50-60 % AOP, 30 % 1RM, 30-15-15-15 with 30 s rests; the
cuff pressure trace holds the setpoint within 1-2 mmHg with contraction pulses of 8-15 mmHg.
One session raises a medium-priority ``pressure_high`` alarm that is acknowledged, one is
aborted by the operator (numbness reported) and deflated. These traces are generated here
(``workbench.bfr`` had no session simulator when this was written).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from workbench.demo.rr import quantise_rr
from workbench.demo.squad import AthleteProfile
from workbench.drivers.simulators import simulate_emg, simulate_rr, simulate_smo2
from workbench.store import Store


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


def _bfr_session(
    store, profile, started_at, limb, side, pct, exercise, rng, *, alarm=False, abort=False
) -> dict[str, int]:  # noqa: ANN001
    fs = 100.0
    aops = np.round(rng.normal(185 if limb == "leg" else 135, 3, 3))
    aop = float(np.mean(aops))
    setpoint = float(round(aop * pct / 100))
    reps = [30, 15, 15, 15]
    t_cursor, sets = 8.0, []
    for r in reps:
        sets.append((t_cursor, t_cursor + 2.0 * r))
        t_cursor += 2.0 * r + 30.0
    stop = sets[2][0] + 9.0 if abort else t_cursor - 30.0 + 5.0
    duration = stop + 4.0
    t = np.arange(0, duration, 1 / fs)
    p = np.full(t.size, setpoint)
    p[t < 6] = setpoint * t[t < 6] / 6
    p += 1.2 * np.sin(2 * np.pi * t / 7.0) + rng.normal(0, 0.4, t.size)
    for a, b in sets:
        inside = (t >= a) & (t < min(b, stop))
        ph = (t[inside] - a) % 2.0
        p[inside] += rng.uniform(8, 15) * np.where(ph < 1.0, np.sin(np.pi * ph), 0.0)
    alarm_t = None
    if alarm:
        a, _ = sets[0]
        k = (t >= a + 20) & (t < a + 21)
        p[k] += 18 * np.sin(np.pi * (t[k] - a - 20))
        alarm_t = float(t[k][np.argmax(p[k])])
    down = t >= stop
    p[down] = np.maximum(setpoint * (1 - (t[down] - stop) / 3.0), 0) + np.abs(
        rng.normal(0, 0.3, down.sum())
    )
    p = np.round(np.clip(p, 0, None), 1)

    events = [
        (0.0, "state", "inflating", None, None, "inflating to setpoint"),
        (
            0.0,
            "setpoint",
            "setpoint",
            None,
            setpoint,
            f"setpoint {setpoint:.0f} mmHg ({pct:.0f} % AOP)",
        ),
        (6.0, "state", "holding", None, setpoint, "at setpoint"),
    ]
    for i, (a, b) in enumerate(sets, 1):
        if a >= stop:
            break
        events.append((a, "operator", "set_start", "low", None, f"set {i}: {reps[i - 1]} reps"))
        if b <= stop:
            events.append((b, "operator", "set_end", "low", None, f"set {i} done"))
    if alarm_t is not None:
        events.append(
            (
                alarm_t,
                "alarm",
                "pressure_high",
                "medium",
                float(p[int(alarm_t * fs)]),
                "pressure above setpoint + 15 mmHg during contraction",
            )
        )
        events.append(
            (alarm_t + 2.5, "ack", "pressure_high", "medium", None, "acknowledged by operator")
        )
    if abort:
        events.append(
            (stop, "operator", "abort", "high", None, "athlete reported numbness; session stopped")
        )
    events.append((stop, "state", "deflating", None, None, "venting"))
    events.append(
        (duration, "state", "aborted" if abort else "complete", None, None, "cuff vented")
    )

    with store.transaction() as conn:
        rec = store.insert_one(
            "recordings",
            {
                "title": f"BFR {exercise} ({limb} {side})",
                "athlete_id": profile.athlete_id,
                "started_at": started_at,
                "ended_at": started_at + dt.timedelta(seconds=duration),
                "status": "complete",
                "notes": "demo BFR pressure trace (generated)",
            },
            conn=conn,
        )
        _, n_chunks = _write_stream(
            store,
            conn,
            rec,
            "cuff_pressure",
            "pressure",
            "demo:bfr-cuff",
            ["pressure_mmhg"],
            ["mmHg"],
            fs,
            t,
            p,
            5.0,
            rng,
        )
        sid = store.insert_one(
            "bfr_sessions",
            {
                "athlete_id": profile.athlete_id,
                "started_at": started_at,
                "ended_at": started_at + dt.timedelta(seconds=duration),
                "limb": limb,
                "side": side,
                "cuff_id": f"demo-{limb}-cuff-{side[0]}",
                "cuff_width_cm": 11.5 if limb == "leg" else 5.0,
                "posture": "seated",
                "aop_readings_mmhg": json.dumps([float(x) for x in aops]),
                "aop_mmhg": round(aop, 1),
                "percent_aop": pct,
                "setpoint_mmhg": setpoint,
                "exercise": exercise,
                "load_pct_1rm": 30.0,
                "scheme": "30-15-15-15",
                "status": "aborted" if abort else "complete",
                "time_under_pressure_s": round(float(np.sum(p > 20) / fs), 1),
                "max_pressure_mmhg": float(p.max()),
                "recording_id": rec,
            },
            conn=conn,
        )
        n_ev = store.write(
            "bfr_events",
            pd.DataFrame(
                [
                    {
                        "session_id": sid,
                        "wall_time": started_at + dt.timedelta(seconds=ts),
                        "t_s": ts,
                        "kind": kind,
                        "code": code,
                        "priority": prio,
                        "value": val,
                        "message": msg,
                    }
                    for ts, kind, code, prio, val, msg in events
                ]
            ),
            conn=conn,
        )
    return {
        "recordings": 1,
        "recording_streams": 1,
        "recording_chunks": n_chunks,
        "bfr_sessions": 1,
        "bfr_events": n_ev,
    }


def write_live_demo(
    store: Store, profiles: list[AthleteProfile], *, end_date: dt.date, seed: int
) -> dict[str, int]:
    """Write the three demo recordings and three BFR sessions; returns rows per table."""
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

    football = _pick(profiles, "football", 1)
    climber = _pick(profiles, "climbing", 7)
    add(_bfr_session(store, lifter, at(5, 16, 0), "leg", "right", 60.0, "leg_press", rng))
    add(
        _bfr_session(
            store, football, at(4, 11, 0), "leg", "left", 60.0, "knee_extension", rng, alarm=True
        )
    )
    add(
        _bfr_session(
            store, climber, at(2, 15, 30), "arm", "left", 50.0, "biceps_curl", rng, abort=True
        )
    )
    return counts


__all__ = ["write_live_demo"]
