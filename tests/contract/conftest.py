"""Loopback-only LSL for the contract suite (must be set before liblsl is first used)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_CFG = Path(tempfile.gettempdir()) / "workbench-lsl-loopback.cfg"
if "LSLAPICFG" not in os.environ:
    _CFG.write_text(
        "[multicast]\nResolveScope = machine\n[lab]\nKnownPeers = {127.0.0.1}\n"
        "[ports]\nIPv6 = disable\n"
    )
    os.environ["LSLAPICFG"] = str(_CFG)
