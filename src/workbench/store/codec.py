"""Compact, lossless binary encoding of numeric arrays for BLOB columns.

The first byte names the encoding:

``q``  uint16 counts of 1/1024 ms-units (RR from BLE Heart Rate Measurement, 1/1024 s
       resolution) when every value is exactly ``count * 1000 / 1024``;
``f``  little-endian float32 when every value survives the float32 round trip;
``d``  little-endian float64 otherwise.

Decoding always returns float64, bit-identical to what was encoded.
"""

from __future__ import annotations

import numpy as np

from workbench.errors import DataFormatError

_BLE_MS = 1000.0 / 1024.0


def encode_array(values: np.ndarray | list[float]) -> bytes:
    """Encode a 1-D float array losslessly, choosing the smallest exact encoding."""
    arr = np.ascontiguousarray(values, dtype=np.float64).ravel()
    if arr.size and np.all(np.isfinite(arr)) and not np.signbit(arr).any():
        with np.errstate(over="ignore"):  # values near float max: not BLE counts anyway
            counts = arr / _BLE_MS
        rounded = np.rint(counts)
        if rounded.min() >= 0 and rounded.max() <= 65535 and np.array_equal(rounded * _BLE_MS, arr):
            return b"q" + rounded.astype("<u2").tobytes()
    with np.errstate(over="ignore", invalid="ignore"):
        as32 = arr.astype("<f4")
    if as32.astype(np.float64).tobytes() == arr.tobytes():  # bit-exact, NaN payloads and -0.0 too
        return b"f" + as32.tobytes()
    return b"d" + arr.astype("<f8").tobytes()


def decode_array(blob: bytes | memoryview) -> np.ndarray:
    """Decode bytes made by :func:`encode_array` into a float64 array."""
    blob = bytes(blob)
    if not blob:
        raise DataFormatError("empty array blob (expected an encoding byte)")
    kind, body = blob[:1], blob[1:]
    if kind == b"q":
        return np.frombuffer(body, dtype="<u2").astype(np.float64) * _BLE_MS
    if kind == b"f":
        return np.frombuffer(body, dtype="<f4").astype(np.float64)
    if kind == b"d":
        return np.frombuffer(body, dtype="<f8").copy()
    raise DataFormatError(f"unknown array encoding byte {kind!r}")


def encode_matrix(values: np.ndarray) -> bytes:
    """Encode a 2-D float64 array (samples x channels) as raw little-endian float64."""
    return np.ascontiguousarray(values, dtype="<f8").tobytes()


def decode_matrix(blob: bytes | memoryview, n_channels: int) -> np.ndarray:
    """Decode :func:`encode_matrix` output into an (n, n_channels) float64 array."""
    flat = np.frombuffer(bytes(blob), dtype="<f8")
    if n_channels <= 0 or flat.size % n_channels:
        raise DataFormatError(
            f"chunk of {flat.size} values does not split into {n_channels} channels"
        )
    return flat.reshape(-1, n_channels).copy()
