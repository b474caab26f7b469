"""The one error tree of the workbench.

Every error says what was wrong, where (file, line, field) and what to do.
Catch :class:`WorkbenchError` to handle anything the workbench raises on purpose.
"""

from __future__ import annotations

import enum
from pathlib import Path


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose."""


class ConfigError(WorkbenchError):
    """A setting (URL, path, environment variable) is missing or malformed."""


class StoreError(WorkbenchError):
    """The database could not be opened, migrated, read or written."""


class DataFormatError(WorkbenchError, ValueError):
    """A file or value does not have the expected format, unit or range.

    Parameters
    ----------
    message:
        What was wrong and what to do.
    path:
        The file concerned, if any.
    line:
        1-based line (or record) number, if known.
    field:
        Column / field name, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = None if path is None else str(path)
        self.line = line
        self.field = field
        self.reason = message
        where = []
        if self.path is not None:
            where.append(self.path)
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        super().__init__(f"{': '.join([', '.join(where), message]) if where else message}")


class UnsupportedFormatError(DataFormatError):
    """No importer recognises the file."""


class DeviceError(WorkbenchError):
    """A device could not be found, connected, configured or read.

    ``reason`` is machine-readable (e.g. ``"bluetooth_unavailable"``, ``"not_found"``,
    ``"disconnected"``, ``"timeout"``).
    """

    def __init__(self, message: str, *, reason: str = "unknown", address: str | None = None):
        self.reason = reason
        self.address = address
        super().__init__(message)


class ProtocolError(DeviceError):
    """Bytes from a device do not follow the protocol they claim to follow."""

    def __init__(self, message: str, *, data: bytes | None = None):
        self.data = data
        super().__init__(message, reason="protocol")


class SafetyReason(enum.Enum):
    """Why a safety decision was taken (machine-readable)."""

    SETPOINT_REJECTED = "setpoint_rejected"
    AOP_INVALID = "aop_invalid"
    OVER_PRESSURE_SUSTAINED = "over_pressure_sustained"
    OVER_PRESSURE_INSTANT = "over_pressure_instant"
    OVER_PRESSURE_MEAN = "over_pressure_mean"
    TIME_LIMIT = "time_limit"
    REPERFUSION_LOCKOUT = "reperfusion_lockout"
    STALE_DATA = "stale_data"
    FROZEN_DATA = "frozen_data"
    IMPLAUSIBLE_DATA = "implausible_data"
    LOOP_OVERRUN = "loop_overrun"
    OPERATOR_HEARTBEAT_LOST = "operator_heartbeat_lost"
    MONITOR = "monitor"
    DEVIATION = "deviation"
    LEAK = "leak"
    NOT_AT_SETPOINT = "not_at_setpoint"
    SCREENING = "screening"
    PRESSURE_AT_START = "pressure_at_start"
    LOOP_EXCEPTION = "loop_exception"
    OPERATOR_VENT = "operator_vent"


class SafetyError(WorkbenchError):
    """A safety rule refused an action (the cuff is, or stays, vented)."""

    def __init__(self, message: str, *, reason: SafetyReason):
        self.reason = reason
        super().__init__(message)
