"""Coach dashboards for Voilà: squad readiness overview with drill-down, recorded sessions.

Public API: :class:`SquadDashboard`, :class:`SessionBrowser`; ``workbench dashboard`` in
:mod:`workbench.dashboards.cli`.
"""

from workbench.dashboards.sessions import SessionBrowser
from workbench.dashboards.squad import SquadDashboard

__all__ = ["SessionBrowser", "SquadDashboard"]
