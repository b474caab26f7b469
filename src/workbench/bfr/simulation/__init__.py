"""The simulated cuff and the runners that drive the real BFR code against it.

- ``cuff.py``: the simulated cuff and limb (physics, firmware watchdog, fault injection).
- ``control_run.py``: the control loop (supervisor + regulator) on simulated time, with a
  referee that knows the true pressure (the safety test bench).
- ``session_run.py``: a whole :class:`~workbench.bfr.session.BfrSession` run on the
  simulated cuff and stored like a real one.
"""
