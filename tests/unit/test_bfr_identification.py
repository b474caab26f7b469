"""Cuff identification at connect (issue 12 item 4) against randomised plants.

The identifier only sees pressure readings and the duties its supervised core sent; the
expected rates are computed here from the plant's constants with the isothermal gas law (an
independent reference), at the pressure the session will regulate (80 % of the plant's AOP),
far above the <= 35 mmHg test.
"""

from __future__ import annotations

import math
import random

import pytest

from bfr_helpers import simulated_limb_limits
from workbench.bfr.control import ControlCore
from workbench.bfr.identification import identify_cuff
from workbench.bfr.protocol import FirmwareState
from workbench.bfr.regulator import RegulatorParams
from workbench.bfr.simulation.cuff import CuffParams, CuffSimulator, random_plant
from workbench.bfr.supervisor import Supervisor
from workbench.errors import DeviceError, SafetyError

P_ATM = 760.0


def _air_ml(prm: CuffParams, p: float) -> float:
    """Air in the resting cuff at gauge pressure p (mL at atmospheric pressure)."""
    return (p + P_ATM) * (prm.v0_ml + prm.compliance_ml_per_mmhg * p) / P_ATM


def _true_rates(prm: CuffParams, p: float) -> tuple[float, float]:
    """Full-duty pump rise and full-open bleed fall (mmHg/s) of the plant at p."""
    dm_dp = (_air_ml(prm, p + 0.5) - _air_ml(prm, p - 0.5)) / 1.0
    pump = prm.pump_max_flow_ml_s * (1.0 - p / prm.pump_stall_mmhg)
    bleed = prm.bleed_k * math.sqrt(p * (p + P_ATM))
    return pump / dm_dp, bleed / dm_dp


def _core(sim: CuffSimulator, aop_mmhg: float = 200.0) -> ControlCore:
    sup = Supervisor(simulated_limb_limits(aop_mmhg), monitors=(), require_operator=False)
    return ControlCore(sim, sup, clock=lambda: sim.t_s)


def _identify(sim: CuffSimulator, aop_mmhg: float = 200.0):
    peak = [0.0]

    def wait(s: float) -> None:
        sim.advance_to(sim.t_s + s)
        peak[0] = max(peak[0], sim.peak_mmhg)

    if sim.t_s == 0.0:
        sim.advance_to(0.01)
    sim.peak_mmhg = 0.0
    core = _core(sim, aop_mmhg)
    return identify_cuff(core, wait=wait, clock=lambda: sim.t_s), peak[0]


def test_identified_rates_match_randomised_plants():
    rng = random.Random(2024)
    pump_err, bleed_err = [], []
    for k in range(20):
        prm, limb, aop = random_plant(rng)
        sim = CuffSimulator(prm, aop_mmhg=aop, seed=k)
        ident, peak = _identify(sim, aop)
        assert peak <= 45.0  # the test stays below the lowest plausible AOP (50 mmHg)
        assert sim.state is FirmwareState.VENTED_HOST
        assert ident.duration_s < 8.0
        sp = 0.8 * aop
        true_pump, true_bleed = _true_rates(prm, sp)
        pump_err.append(ident.pump_rate_mmhg_per_s(sp) / true_pump - 1.0)
        bleed_err.append(ident.bleed_rate_mmhg_per_s(sp) / true_bleed - 1.0)
        # the regulator's parameters carry the identified constants
        rp = ident.regulator_params()
        assert rp.pump_flow_ml_s(sp) / rp.air_per_mmhg_ml(sp) == pytest.approx(
            ident.pump_rate_mmhg_per_s(sp)
        )
    assert max(map(abs, pump_err)) <= 0.10, pump_err
    assert max(map(abs, bleed_err)) <= 0.15, bleed_err
    # and the nominal constants would have been far off on these plants
    nominal = RegulatorParams()
    rng = random.Random(2024)
    off = []
    for _ in range(20):
        prm, _limb, aop = random_plant(rng)
        sp = 0.8 * aop
        nom_pump = nominal.pump_flow_ml_s(sp) / nominal.air_per_mmhg_ml(sp)
        off.append(abs(nom_pump / _true_rates(prm, sp)[0] - 1.0))
    assert max(off) > 0.3


def test_refuses_a_cuff_that_is_not_vented():
    sim = CuffSimulator()
    sim.advance_to(0.01)
    sim.arm(100.0)
    sim.set_target(60.0, pump_duty=1.0, bleed_duty=0.0)
    sim.advance_to(0.3)
    assert sim.read_pressure().pressure_mmhg > 20.0
    with pytest.raises(SafetyError):
        _identify(sim)
    assert sim.state is not FirmwareState.ARMED


@pytest.mark.parametrize("fault", ["hose_off", "pump_stuck_on"])
def test_a_faulty_cuff_fails_identification_and_ends_vented(fault):
    sim = CuffSimulator(CuffParams(pump_max_flow_ml_s=490.0))
    sim.inject(fault, 0.0)
    with pytest.raises(DeviceError):
        _identify(sim)
    assert sim.state is FirmwareState.VENTED_HOST
    sim.advance_to(sim.t_s + 0.5)
    assert sim.pressure_mmhg < 20.0
