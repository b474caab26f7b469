"""One enforcement point (issue 12.1): no path to the cuff outside the supervisor.

Every module under ``src/workbench`` is parsed with :mod:`ast`. Touching a cuff's
``set_target``/``arm`` (call, bound method, ``getattr``), encoding a SET/ARM frame or
building a ``CuffCommand`` is allowed only in ``bfr/control.py::ControlCore`` (the
supervisor-owned path), in the cuff implementations that forward to the device they wrap,
and (``CuffCommand``) in protocol/regulator/supervisor; ``core.arm``/``supervisor.arm`` are
the supervised path. A dynamic check runs a whole simulated session (calibrations and sets)
on a cuff that records the caller of every set/arm.
"""

from __future__ import annotations

import ast
import sys
import textwrap
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "src" / "workbench"

#: (module relative to src/workbench, class) that send set/arm commands to the cuff.
COMMAND_PATH = {("bfr/control.py", "ControlCore")}
#: Classes implementing the cuff (``CuffController``): they forward to the device they wrap.
CUFF_IMPLEMENTATIONS = {
    ("bfr/protocol.py", "CuffController"),  # the protocol's definition
    ("bfr/simulation/cuff.py", "CuffSimulator"),
    ("bfr/live.py", "RealtimeSimCuff"),
    ("bfr/serial_cuff.py", "SerialCuff"),
    ("bfr/simulation/emulator.py", "CuffEmulator"),  # the firmware side of the wire
}
#: Modules (any scope) that may encode SET/ARM frames: the codec itself.
WIRE_CODEC_MODULES = {"bfr/protocol.py"}
#: Modules that may build a ``CuffCommand``.
CUFF_COMMAND_MODULES = {"bfr/protocol.py", "bfr/regulator.py", "bfr/supervisor.py"}
#: Receivers whose ``.arm`` is the supervised path: ControlCore.arm, Supervisor.arm and
#: BfrSession.arm(who) (gated; LiveSession -> ControlCore.arm). ``x.cuff.arm`` is not.
SUPERVISED_ARM_RECEIVERS = {"core", "_core", "supervisor", "sup", "flow", "session", "sess"}

CUFF_METHODS = {"set_target", "arm"}
WIRE_NAMES = {"encode_set", "encode_arm"}
WIRE_MSG_TYPES = {"SET", "ARM"}


def _last_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class _Checker(ast.NodeVisitor):
    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.classes: list[str] = []
        self.found: list[str] = []

    def _scope_allowed(self) -> bool:
        cls = self.classes[0] if self.classes else None
        return (self.rel, cls) in COMMAND_PATH or (self.rel, cls) in CUFF_IMPLEMENTATIONS

    def _flag(self, node: ast.AST, what: str) -> None:
        where = f"{self.rel}:{getattr(node, 'lineno', 0)}"
        scope = self.classes[0] if self.classes else "<module>"
        self.found.append(f"{where} ({scope}): {what}")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in CUFF_METHODS and not self._scope_allowed():
            receiver = _last_name(node.value)
            if not (node.attr == "arm" and receiver in SUPERVISED_ARM_RECEIVERS):
                self._flag(node, f"{ast.unparse(node)} touches the cuff outside the supervisor")
        if (
            node.attr in WIRE_MSG_TYPES
            and _last_name(node.value) == "MsgType"
            and self.rel not in WIRE_CODEC_MODULES
            and not self._scope_allowed()
        ):
            self._flag(node, f"{ast.unparse(node)} builds a cuff command frame")
        if node.attr in WIRE_NAMES and self.rel not in WIRE_CODEC_MODULES:
            if not self._scope_allowed():
                self._flag(node, f"{ast.unparse(node)} encodes a cuff command")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in WIRE_NAMES and self.rel not in WIRE_CODEC_MODULES:
            if not self._scope_allowed():
                self._flag(node, f"{node.id} encodes a cuff command")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        fn = _last_name(node.func)
        if fn in ("getattr", "methodcaller", "attrgetter"):
            for arg in node.args:
                if (
                    isinstance(arg, ast.Constant)
                    and arg.value in CUFF_METHODS
                    and not self._scope_allowed()
                ):
                    self._flag(node, f"{ast.unparse(node)} reaches a cuff method by name")
        if fn == "CuffCommand" and self.rel not in CUFF_COMMAND_MODULES:
            self._flag(node, f"{ast.unparse(node)} builds a cuff command")
        self.generic_visit(node)


def cuff_command_violations(source: str, rel: str) -> list[str]:
    """Places in ``source`` (module ``rel`` under src/workbench) that command the cuff
    outside the supervisor-owned path."""
    checker = _Checker(rel)
    checker.visit(ast.parse(source, filename=rel))
    return checker.found


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "__pycache__" not in p.parts)


def test_nothing_outside_the_supervisor_commands_the_cuff():
    found = []
    for path in _modules():
        rel = path.relative_to(PKG).as_posix()
        found += cuff_command_violations(path.read_text(), rel)
    assert not found, "commands to the cuff outside the supervisor:\n" + "\n".join(found)


def test_the_scan_covers_the_command_sources():
    """The scan sees every module that requests setpoints (a vacuous pass is a failure)."""
    rels = {p.relative_to(PKG).as_posix() for p in _modules()}
    for rel in ("bfr/control.py", "bfr/calibration.py", "bfr/manual.py", "bfr/adaptive.py"):
        assert rel in rels
    # the allow-list names real classes that define the cuff methods
    for rel, cls in COMMAND_PATH | CUFF_IMPLEMENTATIONS:
        path = PKG / rel
        if not path.exists():
            continue  # a transport not (yet) in this tree
        tree = ast.parse(path.read_text())
        classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        assert cls in classes, f"{rel} has no class {cls}"
    core = ast.parse((PKG / "bfr/control.py").read_text())
    calls = {
        ast.unparse(n.func) for n in ast.walk(core) if isinstance(n, ast.Call)
    }  # the one path really calls the cuff
    assert {"self.cuff.set_target", "self.cuff.arm"} <= calls


PLANTED = {
    "direct call": "def f(cuff):\n    cuff.set_target(250.0, pump_duty=1.0, bleed_duty=0.0)\n",
    "arm": "def f(cuff):\n    cuff.arm(300.0)\n",
    "arm on self.cuff": "class X:\n    def go(self):\n        self.cuff.arm(300.0)\n",
    "bound method": "def f(cuff):\n    send = cuff.set_target\n    send(250.0, pump_duty=1.0, bleed_duty=0.0)\n",
    "getattr": "def f(cuff):\n    getattr(cuff, 'set_target')(250.0, pump_duty=1, bleed_duty=0)\n",
    "wire frame": "from workbench.bfr.protocol import encode_set\n\ndef f(s):\n    s.write(encode_set(1, 250.0, 1.0, 0.0))\n",
    "msg type": "from workbench.bfr import protocol\n\ndef f():\n    return protocol.MsgType.ARM\n",
    "cuff command": "from workbench.bfr.protocol import CuffCommand\n\ndef f():\n    return CuffCommand(250.0, 1.0, 0.0)\n",
}


@pytest.mark.parametrize("name", sorted(PLANTED))
def test_a_planted_violation_is_caught(name, tmp_path):
    """The checker fails on a module that reaches the cuff directly (it can fail)."""
    bad = tmp_path / "bfr" / "rogue.py"
    bad.parent.mkdir()
    bad.write_text(PLANTED[name])
    found = cuff_command_violations(bad.read_text(), "bfr/rogue.py")
    assert len(found) >= 1, name
    assert all(f.startswith("bfr/rogue.py:") for f in found)


def test_the_allowed_scopes_are_narrow():
    """Inside an allowed module, another class (e.g. the thread around the core) may not
    command the cuff; the supervised ``core.arm`` is allowed anywhere."""
    src = textwrap.dedent(
        """
        class ControlThread:
            def run(self):
                self.core.cuff.set_target(250.0, pump_duty=1.0, bleed_duty=0.0)

        class ControlCore:
            def tick(self):
                self.cuff.set_target(100.0, pump_duty=0.5, bleed_duty=0.0)

        def start(core, supervisor, now):
            core.arm(now)
            supervisor.arm(now, None)
        """
    )
    found = cuff_command_violations(src, "bfr/control.py")
    assert len(found) == 1 and "ControlThread" in found[0]
    # the same ControlCore code in another module is not the command path
    assert len(cuff_command_violations(src, "bfr/manual.py")) == 2


def test_every_command_of_a_simulated_session_comes_from_the_control_core(monkeypatch):
    """Calibration (two AOP readings) and training sets: the simulated cuff records the
    caller of every set/arm; all are ``ControlCore`` methods in ``bfr/control.py``."""
    from workbench.bfr.simulation import session_run
    from workbench.bfr.simulation.cuff import CuffSimulator

    callers: dict[str, set[str]] = {"set_target": set(), "arm": set()}

    class RecordingCuff(CuffSimulator):
        def _record(self, name: str) -> None:
            f = sys._getframe(2)
            callers[name].add(f"{Path(f.f_code.co_filename).as_posix()}::{f.f_code.co_qualname}")

        def set_target(self, setpoint_mmhg, *, pump_duty, bleed_duty):
            self._record("set_target")
            super().set_target(setpoint_mmhg, pump_duty=pump_duty, bleed_duty=bleed_duty)

        def arm(self, max_setpoint_mmhg):
            self._record("arm")
            super().arm(max_setpoint_mmhg)

    monkeypatch.setattr(session_run, "CuffSimulator", RecordingCuff)
    r = session_run.run_simulated_session(
        true_aop_mmhg=160.0, percent_aop=50.0, scheme=(3,), rest_s=10.0, seed=3
    )
    assert r.aop is not None and len(r.calibrations) >= 2
    everything = callers["set_target"] | callers["arm"]
    assert callers["set_target"] and callers["arm"]
    bad = {c for c in everything if not c.endswith(("bfr/control.py::ControlCore.tick",
                                                    "bfr/control.py::ControlCore.arm"))}  # fmt: skip
    assert not bad, bad
