"""The simulated cuff: physics, firmware watchdog, faults, NIRS, EMG and HR, steppable in time.

:class:`CuffSimulator` implements :class:`~workbench.bfr.protocol.CuffController`; its
firmware (normally-open dump valve) vents when heartbeats stop for 250 ms, when its own
over-pressure switch sees > 330 mmHg for 20 ms, or when asked for a setpoint above the armed
maximum. Time is simulated: :meth:`CuffSimulator.advance_to` steps at ``physics_hz``.
Why: ``docs/decisions/0004-bfr-control.md``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field, replace

from workbench.bfr.protocol import CuffStatus, FirmwareState, PressureReading

P_ATM_MMHG = 760.0
#: Time constant of the limb volume following its activity, s.
LIMB_TAU_S = 0.05

#: Faults the simulator can inject (name -> description).
SIM_FAULTS: dict[str, str] = {
    "sensor_freeze": "pressure value stays bit-identical while samples keep arriving",
    "sensor_dropout": "no new pressure samples at all",
    "sensor_offset_plus_20": "sensor reads 20 mmHg high",
    "sensor_offset_minus_20": "sensor reads 20 mmHg low (cuff really 20 mmHg above reading)",
    "sensor_spikes": "isolated +90 mmHg single-sample spikes",
    "nan_reading": "sensor reports invalid (NaN) samples",
    "pump_stuck_on": "pump runs at full power whatever it is told",
    "dump_valve_stuck": "dump valve stays closed; only the bleed valve can vent",
    "leak_0_1mm": "0.1 mm leak in the bladder",
    "leak_0_5mm": "0.5 mm leak in the bladder",
    "leak_1mm": "1 mm leak in the bladder",
    "hose_off": "hose disconnects: cuff deflates, sensor reads ambient",
    "cuff_slip": "cuff slides down the limb: bladder volume +25 % over 5 s",
    "contraction_spikes_x2": "contraction pressure swings twice as large",
    "isometric_plateau": "a sustained isometric contraction for 15 s",
    "nirs_desaturation": "NIRS falls to complete desaturation",
    "emg_collapse": "EMG amplitude collapses to 5 %",
    "monitor_loss": "NIRS and EMG streams stop",
    "hr_strap_lost": "HR strap disconnects (the BLE driver reports it at once)",
    "hr_strap_silent": "HR strap stops notifying without reporting a disconnect",
}

#: Mean interval of the HR strap's notifications, s (Bluetooth Heart Rate Profile: ~1 Hz).
HR_NOTIFY_S = 1.0


@dataclass(frozen=True)
class CuffParams:
    """Physical parameters; the defaults meet BFR-SAFETY req 8 (250 -> < 20 mmHg in 0.5 s)."""

    v0_ml: float = 150.0
    compliance_ml_per_mmhg: float = 1.2
    pump_max_flow_ml_s: float = 350.0
    pump_stall_mmhg: float = 420.0
    bleed_k: float = 0.35
    dump_k: float = 7.0
    #: orifice coefficient of a leak the cuff always has (0: tight); faults add to it
    leak_k: float = 0.0
    leak_k_per_mm2: float = 0.35
    contraction_ml: float = 31.0
    cadence_hz: float = 0.5
    swell_ml: float = 8.0
    pulse_ml: float = 1.0
    heart_rate_hz: float = 1.2
    sensor_tau_s: float = 0.005
    sensor_noise_mmhg: float = 0.3
    sensor_offset_mmhg: float = 0.0
    watchdog_s: float = 0.25
    hw_overpressure_mmhg: float = 330.0
    physics_hz: float = 1000.0


@dataclass
class _Physio:
    thb_um: float = 60.0
    smo2_pct: float = 70.0
    emg_uv: float = 5.0
    fatigue: float = 1.0
    hr_bpm: float = 70.0


@dataclass
class NirsSample:
    """One NIRS sample: O2Hb, HHb, tHb in µM, SmO2 in %, PPG pulse amplitude (0-1)."""

    t_s: float
    o2hb_um: float
    hhb_um: float
    thb_um: float
    smo2_pct: float
    ppg_amplitude: float


@dataclass
class _Faults:
    active: dict[str, float] = field(default_factory=dict)  # name -> start time

    def on(self, name: str, t: float) -> bool:
        s = self.active.get(name)
        return s is not None and t >= s


def air_per_mmhg_ml(params: CuffParams, p_mmhg: float) -> float:
    """Air (mL at atmospheric pressure) that raises the resting cuff by 1 mmHg at ``p_mmhg``."""
    c = params.compliance_ml_per_mmhg
    return (params.v0_ml + 2 * c * p_mmhg + c * P_ATM_MMHG) / P_ATM_MMHG


def leak_alarm_k(params: CuffParams, p_mmhg: float, duty: float = 0.05) -> float:
    """Leak orifice coefficient whose flow at ``p_mmhg`` needs ``duty`` of the pump: the
    supervisor's leak alarm (pump > 5 % for > 7 s, req 15) fires from about there."""
    q_pump = params.pump_max_flow_ml_s * max(0.0, 1.0 - p_mmhg / params.pump_stall_mmhg)
    return duty * q_pump / math.sqrt(p_mmhg * (p_mmhg + P_ATM_MMHG))


def random_plant(
    rng: random.Random,
    *,
    contraction: str = "legit_swing",
    leak_max_frac: float = 0.6,
    spread: float = 0.4,
) -> tuple[CuffParams, str, float]:
    """A random cuff on a random limb: ``(params, limb, true AOP mmHg)``.

    Cuff volume on the limb, compliance, pump flow, bleed conductance, limb swelling x
    U(1 - spread, 1 + spread) around the lab cuff; dump valve x U(1, 1.4) (req 8 must hold);
    cadence U(0.33, 0.6) Hz; limb arm (AOP 110-180) or leg (140-260). ``contraction``:
    ``"legit_swing"`` sizes the contraction so its undamped swing at 80 % AOP is U(15, 25)
    mmHg (req 3's legitimate range) on this cuff; ``"volume"`` draws the volume itself x
    U(1 - spread, 1 + spread) (stiff cuffs then swing beyond req 3's range). A steady leak
    U(0, ``leak_max_frac``) x :func:`leak_alarm_k` at 80 % AOP is added when
    ``leak_max_frac`` > 0 (drawn last, so other draws match ``leak_max_frac=0``).
    """
    d = CuffParams()

    def j(x: float) -> float:
        return x * rng.uniform(1.0 - spread, 1.0 + spread)

    params = CuffParams(
        v0_ml=j(d.v0_ml),
        compliance_ml_per_mmhg=j(d.compliance_ml_per_mmhg),
        pump_max_flow_ml_s=j(d.pump_max_flow_ml_s),
        bleed_k=j(d.bleed_k),
        dump_k=d.dump_k * rng.uniform(1.0, 1.4),
        contraction_ml=j(d.contraction_ml),
        swell_ml=j(d.swell_ml),
        cadence_hz=rng.uniform(0.33, 0.6),
    )
    limb = rng.choice(["arm", "leg"])
    aop = rng.uniform(110.0, 180.0) if limb == "arm" else rng.uniform(140.0, 260.0)
    sp = min(0.8 * aop, 200.0 if limb == "arm" else 240.0)
    if contraction == "legit_swing":
        # dP = dV (P + P_atm) / (V + C (P + P_atm)) for a small limb volume change dV
        v = params.v0_ml + params.compliance_ml_per_mmhg * sp
        ml_per_mmhg = (v + params.compliance_ml_per_mmhg * (sp + P_ATM_MMHG)) / (sp + P_ATM_MMHG)
        params = replace(params, contraction_ml=rng.uniform(15.0, 25.0) * ml_per_mmhg)
    elif contraction != "volume":
        raise ValueError(f"contraction must be 'legit_swing' or 'volume', got {contraction!r}")
    if leak_max_frac > 0:
        params = replace(params, leak_k=rng.uniform(0.0, leak_max_frac) * leak_alarm_k(params, sp))
    return params, limb, aop


def monitor_streams(
    now_s: float,
    *,
    nirs_t_s: float,
    nirs: dict[str, float],
    emg_t_s: float,
    emg: dict[str, float],
    hr_t_s: float,
    hr: dict[str, float],
) -> dict[str, tuple[float, dict[str, float]]]:
    """A simulated limb's streams as a :data:`~workbench.bfr.control.MonitorSource` result:
    NIRS/EMG are absent while lost (last sample > 0.5 s old); HR keeps its last notification
    (a silent strap) or its disconnect (``connected=0``, reported at once)."""
    out: dict[str, tuple[float, dict[str, float]]] = {}
    if now_s - nirs_t_s < 0.5:
        out["nirs"] = (nirs_t_s, nirs)
    if now_s - emg_t_s < 0.5:
        out["emg"] = (emg_t_s, emg)
    if math.isfinite(hr_t_s):
        out["hr"] = (hr_t_s, hr)
    return out


class CuffSimulator:
    """Simulated cuff + limb + firmware; implements :class:`~workbench.bfr.protocol.CuffController`.

    Physics (isothermal, pressures in mmHg gauge, air amounts ``m`` in mL at atmospheric
    pressure): the cuff volume is ``V = V0 + C*P - dV_limb`` (a compliant bladder on a
    compliant limb whose volume swells with contractions and pulsates with the heart beat)
    and ``(P + P_atm) * V = P_atm * m``. Flows: pump ``Q = duty * Q_max * (1 - P/P_stall)``;
    orifices (bleed, dump valve, leaks) ``Q = k * sqrt(P * (P + P_atm))``. The sensor adds a
    first-order lag, offset, noise and 0.1 mmHg quantisation.

    Parameters
    ----------
    params:
        Physical parameters.
    aop_mmhg:
        The limb's true arterial occlusion pressure (for NIRS/PPG), mmHg.
    seed:
        Random seed of noise and contraction jitter.
    """

    def __init__(
        self, params: CuffParams | None = None, *, aop_mmhg: float = 200.0, seed: int = 0
    ) -> None:
        self.p = params or CuffParams()
        self.aop_mmhg = float(aop_mmhg)
        self.rng = random.Random(seed)
        self.dt_s = 1.0 / self.p.physics_hz
        self.t_s = 0.0
        self.m_ml = self.p.v0_ml  # air at 0 mmHg gauge
        self.pressure_mmhg = 0.0  # true gauge pressure
        #: highest true pressure since the referee last reset it (1 kHz physics peaks)
        self.peak_mmhg = 0.0
        self._sensor_lag = 0.0
        self._sample = 0.0
        self._sample2 = 0.0
        self._sample_seq = 0
        self._frozen_value: float | None = None
        self._spike_next = 0
        # firmware
        self.state = FirmwareState.IDLE
        self.max_setpoint_mmhg = 0.0
        self.setpoint_mmhg = 0.0
        self.pump_duty = 0.0
        self.bleed_duty = 0.0
        self.last_heartbeat_s = -math.inf
        self._hw_over_since: float | None = None
        self.vent_times_s: list[tuple[float, FirmwareState]] = []
        # limb
        self.activity = "rest"
        self._activity_t0 = 0.0
        self._finish: tuple[float, float] | None = None  # (t0, end) of a rep being finished
        self._rep_amp = 1.0
        self._rep_index = -1
        self._swell = 0.0
        self._limb_vol_ml = 0.0
        self.faults = _Faults()
        self._physio = _Physio()
        self._physio_next = 0.0
        self.nirs: NirsSample | None = None
        self.emg_t_s = -math.inf
        self.emg_rms_uv = 5.0
        # HR strap (issue 12.3): ~1 Hz notifications; its own RNG keeps the other streams'
        # noise sequences (and so every seeded result) what they were without it
        self._hr_rng = random.Random(f"hr-{seed}")
        self._hr_next = 0.0
        self.hr_t_s = -math.inf
        self.hr_bpm = math.nan
        self.hr_connected = True

    # ----------------------------------------------------------------- set-up
    def inject(self, name: str, at_s: float | None = None) -> None:
        """Activate fault ``name`` (see :data:`SIM_FAULTS`) from ``at_s`` (default now)."""
        if name not in SIM_FAULTS:
            raise ValueError(f"unknown simulator fault {name!r}; known: {sorted(SIM_FAULTS)}")
        self.faults.active[name] = self.t_s if at_s is None else float(at_s)

    def set_activity(self, activity: str) -> None:
        """``"rest"``, ``"reps"`` (dynamic contractions at ``cadence_hz``) or ``"isometric"``."""
        if activity not in ("rest", "reps", "isometric"):
            raise ValueError(f"activity must be rest, reps or isometric, got {activity!r}")
        if self.activity == "reps" and activity != "reps":
            # the athlete finishes the rep under way (no jump in limb volume)
            phase = (self.t_s - self._activity_t0) * self.p.cadence_hz
            self._finish = (
                self._activity_t0,
                self._activity_t0 + math.ceil(phase) / self.p.cadence_hz,
            )
        else:
            self._finish = None
        self.activity = activity
        self._activity_t0 = self.t_s
        self._rep_index = -1

    # ----------------------------------------------------------------- physics
    def _limb_ml(self, t: float) -> float:
        p = self.p
        scale = 2.0 if self.faults.on("contraction_spikes_x2", t) else 1.0
        vol = p.pulse_ml * math.sin(2 * math.pi * p.heart_rate_hz * t)
        if self.faults.on("isometric_plateau", t):
            since = t - self.faults.active["isometric_plateau"]
            if since < 15.0:
                return vol + 0.6 * p.contraction_ml * min(1.0, since) + self._swell
        if self.activity == "reps":
            phase = (t - self._activity_t0) * p.cadence_hz
            rep = int(phase)
            if rep != self._rep_index:
                self._rep_index = rep
                self._rep_amp = self.rng.uniform(0.8, 1.2)
            vol += scale * self._rep_amp * p.contraction_ml * math.sin(2 * math.pi * phase)
        elif self.activity == "isometric":
            vol += 0.6 * p.contraction_ml * min(1.0, t - self._activity_t0)
        if self._finish is not None and self.activity != "reps" and t < self._finish[1]:
            phase = (t - self._finish[0]) * p.cadence_hz
            vol += scale * self._rep_amp * p.contraction_ml * math.sin(2 * math.pi * phase)
        return vol + self._swell

    def _pressure_for(self, m_ml: float, dv_ml: float) -> float:
        p = self.p
        if self.faults.on("cuff_slip", self.t_s):
            grow = min(1.0, (self.t_s - self.faults.active["cuff_slip"]) / 5.0)
            v0 = p.v0_ml * (1 + 0.25 * grow)
        else:
            v0 = p.v0_ml
        v0 -= dv_ml
        c = p.compliance_ml_per_mmhg
        # c P^2 + (v0 + c Patm) P + Patm (v0 - m) = 0
        b = v0 + c * P_ATM_MMHG
        cc = P_ATM_MMHG * (v0 - m_ml)
        disc = b * b - 4 * c * cc
        return max(0.0, (-b + math.sqrt(disc)) / (2 * c))

    def _vented(self) -> bool:
        return self.state is not FirmwareState.ARMED

    def step(self) -> None:
        """Advance one physics step (``1/physics_hz`` s)."""
        p, t, dt = self.p, self.t_s, self.dt_s
        # firmware watchdog and hardware over-pressure
        if self.state is FirmwareState.ARMED and t - self.last_heartbeat_s > p.watchdog_s:
            self._fw_vent(FirmwareState.VENTED_WATCHDOG)
        if self.pressure_mmhg > p.hw_overpressure_mmhg:
            if self._hw_over_since is None:
                self._hw_over_since = t
            elif t - self._hw_over_since >= 0.02 and self.state is FirmwareState.ARMED:
                self._fw_vent(FirmwareState.VENTED_OVERPRESSURE)
        else:
            self._hw_over_since = None
        vented = self._vented()
        pump = 0.0 if vented else self.pump_duty
        if self.faults.on("pump_stuck_on", t):
            pump = 1.0
        bleed = 1.0 if vented else self.bleed_duty
        dump = vented and not self.faults.on("dump_valve_stuck", t)
        k = bleed * p.bleed_k + (p.dump_k if dump else 0.0) + p.leak_k
        for name, d_mm in (("leak_0_1mm", 0.1), ("leak_0_5mm", 0.5), ("leak_1mm", 1.0)):
            if self.faults.on(name, t):
                k += p.leak_k_per_mm2 * d_mm * d_mm
        if self.faults.on("hose_off", t):
            k += p.dump_k
        pg = self.pressure_mmhg
        q_in = pump * p.pump_max_flow_ml_s * max(0.0, 1.0 - pg / p.pump_stall_mmhg)
        q_out = k * math.sqrt(pg * (pg + P_ATM_MMHG))
        self.m_ml = max(1.0, self.m_ml + (q_in - q_out) * dt)
        # slow swelling of an exercising limb
        target = p.swell_ml if self.activity != "rest" else 0.0
        self._swell += (target - self._swell) * dt / 20.0
        self.t_s = t + dt
        # tissue cannot change volume within a millisecond: the limb follows its activity
        # with a 50 ms lag (a 0.5 Hz contraction keeps 99 % of its swing), so switching
        # activity (end of a set, an isometric hold) does not make the cuff pressure jump
        target = self._limb_ml(self.t_s)
        self._limb_vol_ml += (target - self._limb_vol_ml) * min(1.0, dt / LIMB_TAU_S)
        self.pressure_mmhg = self._pressure_for(self.m_ml, self._limb_vol_ml)
        if self.pressure_mmhg > self.peak_mmhg:
            self.peak_mmhg = self.pressure_mmhg
        self._sense()
        if self.t_s >= self._physio_next:
            self._physio_next = self.t_s + 0.1
            self._physio_step(0.1)

    def _sense(self) -> None:
        p, t = self.p, self.t_s
        a = self.dt_s / (p.sensor_tau_s + self.dt_s)
        self._sensor_lag += a * (self.pressure_mmhg - self._sensor_lag)
        if self.faults.on("sensor_dropout", t):
            return
        self._sample_seq = (self._sample_seq + 1) & 0xFFFF
        if self.faults.on("hose_off", t):
            value = 0.0
        else:
            value = self._sensor_lag + p.sensor_offset_mmhg
        # second, independent sensor (faults below affect the primary sensor only)
        self._sample2 = round((value + self.rng.gauss(0.0, p.sensor_noise_mmhg)) * 10) / 10
        if self.faults.on("sensor_offset_plus_20", t):
            value += 20.0
        if self.faults.on("sensor_offset_minus_20", t):
            value -= 20.0
        value += self.rng.gauss(0.0, p.sensor_noise_mmhg)
        if self.faults.on("sensor_spikes", t):
            self._spike_next -= 1
            if self._spike_next <= 0:
                self._spike_next = self.rng.randint(200, 400)
                value += 90.0
        value = round(value * 10) / 10
        if self.faults.on("sensor_freeze", t):
            if self._frozen_value is None:
                self._frozen_value = self._sample
            value = self._frozen_value
        if self.faults.on("nan_reading", t):
            value = math.nan
        self._sample = value

    def _physio_step(self, dt: float) -> None:
        """NIRS and EMG at 10 Hz from the true cuff pressure and the activity."""
        ph, t, aop = self._physio, self.t_s, self.aop_mmhg
        pres = self.pressure_mmhg
        pv = 40.0
        arterial = math.sqrt(max(0.0, min(1.0, (aop - pres) / (aop - pv)))) if pres > pv else 1.0
        venous = max(0.0, min(1.0, 1.0 - pres / (1.5 * pv)))
        ph.thb_um += (arterial * (1 - venous) * 15.0 - (ph.thb_um - 60.0) * venous) * dt / 15.0
        exercising = self.activity != "rest" or self.faults.on("isometric_plateau", t)
        vo2 = 1.0 + (4.0 if exercising else 0.0)
        ph.smo2_pct += (0.3 * arterial * (75.0 - ph.smo2_pct) - vo2 * 0.3) * dt * 3.0
        if self.faults.on("nirs_desaturation", t):
            ph.smo2_pct -= 60.0 * dt
        ph.smo2_pct = min(100.0, max(0.0, ph.smo2_pct + self.rng.gauss(0, 0.05)))
        if exercising:
            ph.fatigue = min(1.5, ph.fatigue + 0.004 * dt * (1 + pres / 100.0))
            act = abs(math.sin(math.pi * (t - self._activity_t0) * self.p.cadence_hz))
            emg = 40.0 + 160.0 * ph.fatigue * act
        else:
            ph.fatigue = max(1.0, ph.fatigue - 0.01 * dt)
            emg = 5.0
        if self.faults.on("emg_collapse", t):
            emg *= 0.05
        lost = self.faults.on("monitor_loss", t)
        if not lost:
            self.emg_rms_uv = emg * self.rng.uniform(0.9, 1.1)
            self.emg_t_s = t
            pulse = 0.3 * arterial * math.sin(2 * math.pi * self.p.heart_rate_hz * t)
            thb = ph.thb_um + pulse + self.rng.gauss(0, 0.05)
            o2 = thb * ph.smo2_pct / 100.0
            ppg = max(0.0, min(1.0, (aop - pres) / (0.3 * aop))) + self.rng.gauss(0, 0.02)
            self.nirs = NirsSample(t, o2, thb - o2, thb, ph.smo2_pct, max(0.0, ppg))
        self._hr_step(exercising, dt)

    def _hr_step(self, exercising: bool, dt: float) -> None:
        """The HR strap: heart rate follows exercise/rest (tau 15 s), notified at ~1 Hz."""
        ph, t = self._physio, self.t_s
        target = 125.0 if exercising else 70.0
        ph.hr_bpm += (target - ph.hr_bpm) * dt / 15.0
        if self.hr_connected and self.faults.on("hr_strap_lost", t):
            # the BLE stack reports the disconnect as it happens
            self.hr_connected = False
            self.hr_t_s = self.faults.active["hr_strap_lost"]
            self.hr_bpm = math.nan
            return
        if not self.hr_connected or t < self._hr_next:
            return
        self._hr_next = t + HR_NOTIFY_S * self._hr_rng.uniform(0.95, 1.05)
        if self.faults.on("hr_strap_silent", t):
            return
        self.hr_t_s = t
        self.hr_bpm = float(round(ph.hr_bpm + self._hr_rng.gauss(0.0, 1.5)))

    def monitor_samples(self) -> dict[str, tuple[float, dict[str, float]]]:
        """The limb's NIRS, EMG and HR streams as a
        :data:`~workbench.bfr.control.MonitorSource` reports them (:func:`monitor_streams`)."""
        n = self.nirs
        return monitor_streams(
            self.t_s,
            nirs_t_s=n.t_s if n is not None else math.nan,
            nirs={"thb_um": n.thb_um, "o2hb_um": n.o2hb_um, "smo2_pct": n.smo2_pct} if n else {},
            emg_t_s=self.emg_t_s,
            emg={"rms_uv": self.emg_rms_uv},
            hr_t_s=self.hr_t_s,
            hr={"bpm": self.hr_bpm, "connected": 1.0 if self.hr_connected else 0.0},
        )

    def advance_to(self, t_s: float) -> None:
        """Step the physics until simulated time reaches ``t_s``."""
        end = t_s - 0.5 * self.dt_s
        while self.t_s < end:
            self.step()

    # ----------------------------------------------------------------- firmware
    def _fw_vent(self, why: FirmwareState) -> None:
        if self.state is FirmwareState.ARMED:
            self.vent_times_s.append((self.t_s, why))
        self.state = why
        self.pump_duty = 0.0
        self.bleed_duty = 1.0
        self.setpoint_mmhg = 0.0

    def arm(self, max_setpoint_mmhg: float) -> None:
        # 300 mmHg: the AOP calibration ceiling (req 17); training sessions arm <= 240
        if not math.isfinite(max_setpoint_mmhg) or not 0 < max_setpoint_mmhg <= 300.0:
            self._fw_vent(FirmwareState.VENTED_HOST)
            return
        self.max_setpoint_mmhg = max_setpoint_mmhg
        self.last_heartbeat_s = self.t_s
        self.pump_duty = self.bleed_duty = 0.0
        self.state = FirmwareState.ARMED

    def heartbeat(self) -> None:
        self.last_heartbeat_s = self.t_s

    def read_pressure(self) -> PressureReading | None:
        if self._sample_seq == 0:
            return None
        return PressureReading(self._sample, self._sample_seq, self.t_s, self.t_s, self._sample2)

    def set_target(self, setpoint_mmhg: float, *, pump_duty: float, bleed_duty: float) -> None:
        if self.state is not FirmwareState.ARMED:
            return
        ok = (
            math.isfinite(setpoint_mmhg)
            and 0 <= setpoint_mmhg <= self.max_setpoint_mmhg + 0.05
            and 0.0 <= pump_duty <= 1.0
            and 0.0 <= bleed_duty <= 1.0
        )
        if not ok:
            self._fw_vent(FirmwareState.VENTED_HOST)
            return
        self.setpoint_mmhg = setpoint_mmhg
        self.pump_duty = pump_duty
        self.bleed_duty = bleed_duty

    def vent(self) -> None:
        self._fw_vent(FirmwareState.VENTED_HOST)

    def status(self) -> CuffStatus:
        vented = self._vented()
        return CuffStatus(
            self.state,
            pump_on=(self.pump_duty > 0 and not vented)
            or self.faults.on("pump_stuck_on", self.t_s),
            dump_open=vented and not self.faults.on("dump_valve_stuck", self.t_s),
            max_setpoint_mmhg=self.max_setpoint_mmhg,
        )
