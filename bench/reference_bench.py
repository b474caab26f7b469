"""Analytics against independent references: a table of ours vs NeuroKit2 / the formula.

Sections (issue 16 acceptance, issue 14 item 3):

1. HRV time domain on real RR: every column NeuroKit2 0.3 defines the same way, and
   SDANN/SDNNI against the Task Force definition written out segment by segment.
2. HRV frequency: ours in NeuroKit2's configuration vs NeuroKit2 (Welch, Lomb); the
   stability of LF/HF when one beat is dropped, default (256-s segments) vs NeuroKit2's.
3. DFA α1: ours (Kubios 4-16 beats) vs NeuroKit2 ``fractal_dfa`` over the same scales, and
   how far NeuroKit2's ``hrv_nonlinear`` (4-11 beats) is from it.
4. Artefact correction on MIT-BIH record 100 (annotated beats) with missed, extra,
   ectopic and long/short artefacts injected at known beats: detection, classification,
   correction and false positives, ours vs NeuroKit2 ``signal_fixpeaks(method="kubios")``.
5. EMG onsets: BITalino emg.txt (BioSPPy) vs NeuroKit2's methods, Myo vs gesture labels.
6. SmO2 recovery: tau vs a global optimiser, the former single local start, half-times.

Run: ``.venv/bin/python bench/reference_bench.py`` (``--seeds`` for section 4).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.io import read_rr
from workbench.signals import hrv_frequency, hrv_nonlinear, hrv_time, rr_clean
from workbench.signals.rr_validation import KINDS, inject_artefacts, score_correction

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
MITBIH = DATA / "hrv" / "mitdb__100_beats.csv"
FS_MITBIH = 360.0
warnings.simplefilter("ignore")


def _nk():
    import neurokit2 as nk

    return nk


def mitbih() -> tuple[np.ndarray, np.ndarray]:
    """Beat times (s) of MIT-BIH 100 and the indices of its annotated A/V beats."""
    ann = pd.read_csv(MITBIH)
    return ann["sample"].to_numpy() / FS_MITBIH, np.flatnonzero(ann["symbol"].to_numpy() != "N")


def windows(nn: np.ndarray, length_s: float = 300.0, step_s: float = 60.0) -> list[np.ndarray]:
    t = np.cumsum(nn) / 1000.0
    return [nn[(t > a) & (t <= a + length_s)] for a in np.arange(0.0, t[-1] - length_s, step_s)]


def real_series() -> dict[str, np.ndarray]:
    beats, _ = mitbih()
    return {
        "pyhrv 337 NN": np.load(DATA / "hrv" / "pyhrv__SampleNNISeriesShort.npy").astype(float),
        "MIT-BIH 100 (30 min)": np.diff(beats) * 1000.0,
        "FR935 swim (cleaned)": rr_clean(
            read_rr(DATA / "fit" / "fitdecode__garmin-fr935-cr.fit")
        ).nn_ms,
        "fenix 5 run": np.asarray(
            read_rr(DATA / "fit" / "fitparse__garmin-fenix-5-run.fit"), float
        ),
    }


def _segment_sd(x: np.ndarray, w_min: int) -> tuple[float, float]:
    """Task Force SDANN/SDNNI over complete segments, written out (docs/hrv-definitions.md)."""
    c = np.cumsum(x)
    w = w_min * 60_000.0
    k = int(np.floor(c[-1] / w))
    if k < 3:
        return np.nan, np.nan
    seg = np.floor(c / w)
    parts = [x[seg == i] for i in range(k)]
    means = [p.mean() for p in parts if p.size]
    sds = [p.std(ddof=1) for p in parts if p.size > 1]
    return float(np.std(means, ddof=1)), float(np.mean(sds))


def _nk_segments_same(x: np.ndarray, w_min: int) -> bool:
    w = w_min * 60_000.0
    ours = np.cumsum(x)
    t = np.cumsum(x / 1000)
    theirs = (t - t[0]) * 1000 + x[0]
    return bool(
        np.floor(ours[-1] / w) == np.round(theirs[-1] / w)
        and np.array_equal(np.floor(ours / w), np.floor(theirs / w))
    )


def time_section(series: dict[str, np.ndarray]) -> None:
    nk = _nk()
    print("\n1. HRV time domain: ours vs NeuroKit2 0.3 hrv_time, SDANN/SDNNI vs the definition")
    print(
        f"   {'series':24s} {'beats':>6s} {'shared cols':>11s} {'max rel diff':>12s}  SDANN/SDNNI"
    )
    for name, x in series.items():
        ours = hrv_time(x).iloc[0]
        ref = nk.hrv_time({"RRI": x}).iloc[0]
        worst, n_cols, sd_notes = 0.0, 0, []
        for col in ours.index:
            if col not in ref.index:
                continue
            if col.startswith(("HRV_SDANN", "HRV_SDNNI")):
                continue
            a, b = float(ours[col]), float(ref[col])
            if np.isfinite(a) and np.isfinite(b):
                worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
                n_cols += 1
        for w in (1, 2, 5):
            sdann, sdnni = _segment_sd(x, w)
            a, b = float(ours[f"HRV_SDANN{w}"]), float(ours[f"HRV_SDNNI{w}"])
            if np.isnan(sdann):
                sd_notes.append(f"{w}m NaN(<3 seg)" if np.isnan(a) else f"{w}m MISMATCH")
                continue
            dev = max(abs(a - sdann) / sdann, abs(b - sdnni) / sdnni)
            same = _nk_segments_same(x, w)
            nkv = float(ref[f"HRV_SDNNI{w}"])
            tag = "NK same" if same else f"NK {100 * (nkv / b - 1):+.0f}% (rounds windows)"
            sd_notes.append(f"{w}m def {dev:.0e}, {tag}")
        print(f"   {name:24s} {x.size:6d} {n_cols:11d} {worst:12.1e}  " + "; ".join(sd_notes))


def frequency_section() -> None:
    nk = _nk()
    beats, _ = mitbih()
    wins = windows(np.diff(beats) * 1000.0)
    print(f"\n2. HRV frequency on MIT-BIH 100, {len(wins)} five-minute windows")
    for method in ("welch", "lomb"):
        opts = {"welch_segment_s": None, "interpolation": "quadratic"} if method == "welch" else {}
        ours = hrv_frequency(wins, method=method, **opts)
        kw = {"interpolation_rate": 4} if method == "welch" else {"interpolation_rate": None}
        diffs = {c: [] for c in ("HRV_LF", "HRV_HF", "HRV_LFHF")}
        for i, w in enumerate(wins):
            t = np.cumsum(w) / 1000.0
            ref = nk.hrv_frequency(
                {"RRI": w, "RRI_Time": t}, psd_method=method, normalize=False, **kw
            ).iloc[0]
            for c in diffs:
                diffs[c].append(abs(float(ours[c].iloc[i]) / float(ref[c]) - 1.0))
        txt = ", ".join(f"{c[4:]} max {100 * max(v):.2f} %" for c, v in diffs.items())
        print(f"   ours ({method}, NeuroKit2 settings) vs NeuroKit2: {txt}")
    for label, opts in (
        ("default: 256-s segments, cubic", {}),
        ("+ smoothness priors λ=500", {"detrend": "smoothness_priors"}),
        (
            "NeuroKit2: N/2 segments, quadratic",
            {"welch_segment_s": None, "interpolation": "quadratic"},
        ),
    ):
        full = hrv_frequency(wins, **opts)
        short = hrv_frequency([w[:-1] for w in wins], **opts)
        ch = {c: 100 * np.abs(short[c] / full[c] - 1.0) for c in ("HRV_LF", "HRV_HF")}
        print(
            f"   one beat dropped, {label:36s}: LF median {np.median(ch['HRV_LF']):.2f} % "
            f"max {ch['HRV_LF'].max():.1f} %, HF median {np.median(ch['HRV_HF']):.2f} % "
            f"max {ch['HRV_HF'].max():.1f} %"
        )
    print(f"   VLF on 5-min windows: {int(full['HRV_VLF'].isna().sum())}/{len(wins)} NaN, note: "
          f"\"{full['HRV_FrequencyNote'].iloc[0]}\"")  # fmt: skip


def dfa_section() -> None:
    nk = _nk()
    beats, _ = mitbih()
    wins = windows(np.diff(beats) * 1000.0)
    ours = hrv_nonlinear(wins)["HRV_DFA_alpha1"].to_numpy()
    same = np.array(
        [nk.fractal_dfa(w, scale=np.arange(4, 17), multifractal=False)[0] for w in wins]
    )
    nk411 = np.array([nk.hrv_nonlinear({"RRI": w})["HRV_DFA_alpha1"].iloc[0] for w in wins])
    print(f"\n3. DFA α1 on MIT-BIH 100, {len(wins)} five-minute windows")
    print(
        f"   ours (4-16 beats) vs NeuroKit2 fractal_dfa 4-16: max |diff| "
        f"{np.max(np.abs(ours - same)):.1e} (NeuroKit2 drops windows of equal intervals)"
    )
    print(
        f"   NeuroKit2 hrv_nonlinear (4-11 beats) vs 4-16: median |diff| "
        f"{np.median(np.abs(nk411 - ours)):.3f}, max {np.max(np.abs(nk411 - ours)):.3f}"
    )  # fmt: skip


def _ours_corrector(t_s: np.ndarray):
    res = rr_clean(np.diff(t_s) * 1000.0)
    flags = {k: t_s[res.positions[k] + 1] for k in KINDS}
    return flags, t_s[0] + np.concatenate([[0.0], np.cumsum(res.nn_ms) / 1000.0])


def _nk_corrector(t_s: np.ndarray):
    nk = _nk()
    peaks = np.round(t_s * FS_MITBIH).astype(int)
    info, _ = nk.signal_fixpeaks(peaks, sampling_rate=FS_MITBIH, method="kubios", iterative=False)
    _, clean = nk.signal_fixpeaks(peaks, sampling_rate=FS_MITBIH, method="kubios")
    flags = {k: peaks[np.asarray(info[k], dtype=int)] / FS_MITBIH for k in KINDS}
    return flags, np.asarray(clean) / FS_MITBIH


def artefact_section(seeds: int) -> None:
    beats, av = mitbih()
    counts = {k: 25 for k in KINDS}
    print(
        f"\n4. Artefact correction, MIT-BIH 100 ({beats.size} annotated beats, {av.size} real "
        f"A/V beats exempt), {seeds} seeds x 25 per kind injected"
    )
    print("   detected = flagged within 1.5 beats; corrected = beats restored within 50 ms")
    print(f"   {'method':28s} {'kind':10s} {'detected':>9s} {'classified':>10s} {'corrected':>10s}")
    for name, fn in (("workbench rr_clean", _ours_corrector), ("NeuroKit2 kubios", _nk_corrector)):
        tot = {
            w: {k: 0 for k in KINDS} for w in ("injected", "detected", "classified", "corrected")
        }
        fp = n_beats = 0
        for seed in range(seeds):
            s = inject_artefacts(beats, counts, seed=seed, exclude=av)
            sc = score_correction(s, *fn(s.t_s), exempt_s=s.truth_s[av])
            for w in tot:
                for k in KINDS:
                    tot[w][k] += getattr(sc, w)[k]
            fp += sc.false_positives
            n_beats += sc.n_beats
        for k in KINDS:
            inj = tot["injected"][k]
            corr = "n/a" if k == "longshort" else f"{100 * tot['corrected'][k] / inj:.1f} %"
            print(
                f"   {name:28s} {k:10s} {100 * tot['detected'][k] / inj:8.1f} % "
                f"{100 * tot['classified'][k] / inj:9.1f} % {corr:>10s}"
            )
        det = 100 * sum(tot["detected"].values()) / sum(tot["injected"].values())
        print(
            f"   {name:28s} {'all':10s} {det:8.1f} %   false positives {100 * fp / n_beats:.2f} % of beats"
        )
    clean = rr_clean(np.diff(beats) * 1000.0)
    print(
        f"   record as annotated (no injection): rr_clean corrects {clean.n_corrected} beats "
        f"({clean.n_ectopic} ectopic) for {av.size} annotated A/V beats"
    )


def _match(found: np.ndarray, ref: np.ndarray, tol_s: float) -> int:
    """Reference onsets with a found onset within ``tol_s``."""
    return int(sum(bool(np.any(np.abs(found - r) <= tol_s)) for r in ref))


def emg_section() -> None:
    from workbench.io.emg import read_emg, read_emg_file
    from workbench.signals.emg import emg_clean, emg_envelope, emg_onsets

    nk = _nk()
    print("\n5. EMG onsets")
    x, fs = read_emg(DATA / "emg" / "biosppy__emg.txt")
    y, _ = emg_clean(x, sampling_rate_hz=fs)
    env = emg_envelope(y, sampling_rate_hz=fs)
    raw = np.asarray(x)[:, 0]
    cleaned = nk.emg_clean(raw, sampling_rate=int(fs))
    amp = nk.emg_amplitude(cleaned)
    refs, active = {}, {}
    for m in ("mixture", "biosppy"):
        act, info = nk.emg_activation(
            emg_amplitude=amp, emg_cleaned=cleaned, sampling_rate=int(fs), method=m
        )
        refs[m] = np.asarray(info["EMG_Onsets"], dtype=float) / fs
        active[m] = np.asarray(act["EMG_Activity"]) > 0
    print(
        "   BITalino emg.txt (BioSPPy, 100 s): the references disagree with each other (no truth);"
    )
    print("   onsets matched within 0.5 s, and active time: recall / precision / F1 against each")
    for name, method in (
        ("baseline (mean + 5 SD of rest)", "baseline"),
        ("range (former)", "range"),
    ):
        on = emg_onsets(env, sampling_rate_hz=fs, method=method)
        mine = np.zeros(raw.size, dtype=bool)
        for a, b in zip(on["onset_s"], on["offset_s"], strict=True):
            mine[int(a * fs) : int(b * fs)] = True
        cells = []
        for m in refs:
            rec, prec = mine[active[m]].mean(), active[m][mine].mean()
            f1 = 2 * rec * prec / (rec + prec)
            cells.append(
                f"NK {m}: {_match(on['onset_s'].to_numpy(), refs[m], 0.5)}/{refs[m].size} "
                f"onsets, {rec:.2f}/{prec:.2f}/{f1:.2f}"
            )
        print(
            f"   {name:31s} {len(on):3d} onsets, {100 * mine.mean():4.1f} % active; "
            + "; ".join(cells)
        )
    f = read_emg_file(DATA / "emg" / "myo_right_12345-1_7.txt")
    fsm = f.sampling_rate_hz
    ym, _ = emg_clean(f.samples, sampling_rate_hz=fsm)
    envm = emg_envelope(ym, sampling_rate_hz=fsm)
    fist = (f.labels == 7).astype(int)
    starts = np.flatnonzero(np.diff(fist) == 1) / fsm
    changes = np.flatnonzero(np.diff(fist) != 0) / fsm
    print(f"   Myo armband, 8 channels, {starts.size} labelled fist onsets per channel (truth):")
    for method in ("baseline", "range"):
        on = emg_onsets(envm, sampling_rate_hz=fsm, method=method)
        hits = rest = 0
        for ch in range(8):
            o = on.loc[on["channel"] == ch, "onset_s"].to_numpy()
            hits += _match(o, starts, 1.0)
            for t in o:
                i = min(int(t * fsm), fist.size - 1)
                rest += int(fist[i] == 0 and not np.any(np.abs(changes - t) < 1.0))
        print(
            f"   {method:8s}: {hits}/{8 * starts.size} onsets found within 1 s, "
            f"{rest} onsets during rest"
        )


def smo2_section() -> None:
    import sys

    from scipy import optimize

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from smo2_reference import global_recovery_fit
    from workbench.io import read_nirs
    from workbench.signals.smo2 import (
        smo2_clean,
        smo2_intervals,
        smo2_kinetics,
        smo2_recovery_model,
    )

    print("\n6. SmO2 recovery fit: tau vs a global optimiser (scipy differential_evolution)")
    sets = []
    df = read_nirs(DATA / "nirs" / "mnirs__moxy_intervals.csv")
    fs = df.attrs["sampling_rate_hz"]
    clean, _ = smo2_clean(df, sampling_rate_hz=fs)
    sets.append(("Moxy", clean, "smo2_pct", fs, None))
    df = read_nirs(DATA / "nirs" / "mnirs__train.red_intervals.csv")
    clean, _ = smo2_clean(df, sampling_rate_hz=10.0)
    iv = smo2_intervals(clean, sampling_rate_hz=10.0)
    sets += [
        (f"Train.Red {i}", clean, c, 10.0, iv) for i, c in ((1, "smo2_pct"), (2, "smo2_pct_2"))
    ]
    for name, frame, col, rate, intervals in sets:
        k = smo2_kinetics(frame, sampling_rate_hz=rate, column=col, intervals=intervals)
        raw = smo2_kinetics(
            frame, sampling_rate_hz=rate, column=col, intervals=intervals, peak_smooth_s=0.0
        )
        for r, rr in zip(k.itertuples(), raw.itertuples(), strict=True):
            m = (frame["t_s"] >= r.work_end_s) & (frame["t_s"] <= r.recovery_end_s)
            t = frame["t_s"][m].to_numpy() - r.work_end_s
            y = frame[col][m].to_numpy()
            ok = ~np.isnan(y)
            t, y = t[ok], y[ok]
            span = t[-1] - t[0]
            ref = global_recovery_fit(t, y)
            # the former single local start (half-time guess)
            a0, b0 = float(y[: max(1, t.size // 20)].mean()), float(np.max(y) - y[0])
            hit = np.flatnonzero(y >= a0 + b0 / 2)
            tau0 = float(max(t[hit[0]], 1.0) / np.log(2)) if hit.size else span / 3
            try:
                p_old, _ = optimize.curve_fit(
                    smo2_recovery_model, t, y, p0=[a0, max(b0, 1e-3), 0.0, min(tau0, span)],
                    bounds=([-np.inf, 0.0, 0.0, 0.1], [np.inf, np.inf, span / 2, 10 * span]),
                    maxfev=5000,
                )  # fmt: skip
                old = f"{100 * (p_old[3] / ref.x[3] - 1):+6.1f} %"
            except RuntimeError:
                old = "failed"
            print(
                f"   {name:12s} #{r.interval}: tau ours {r.tau_s:6.2f} s, global {ref.x[3]:6.2f} s "
                f"({100 * (r.tau_s / ref.x[3] - 1):+5.2f} %), former single start {old}; "
                f"r² {r.r2:.2f} ({r.tau_quality}); half-recovery {r.half_recovery_s:5.1f} s "
                f"(raw-max peak: {rr.half_recovery_s:5.1f} s)"
            )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=10)
    args = ap.parse_args()
    time_section(real_series())
    frequency_section()
    dfa_section()
    artefact_section(args.seeds)
    emg_section()
    smo2_section()


if __name__ == "__main__":
    main()
