"""workbench: athlete recovery workbench (readiness, live signals, mobility, BFR, reports).

Importing the package creates no hardware connection, event loop, thread or database.
"""

__version__ = "0.1.0"
