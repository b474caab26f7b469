"""Framing of FIT files built in tests: the 14-byte header and the FIT CRC-16 (FIT SDK)."""

from __future__ import annotations

import struct

_CRC = [0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
        0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400]  # fmt: skip


def fit_crc(data: bytes) -> int:
    """The FIT SDK's CRC-16 of ``data`` (nibble table)."""
    crc = 0
    for byte in data:
        for nib in (byte & 0xF, byte >> 4):
            crc = ((crc >> 4) & 0x0FFF) ^ _CRC[crc & 0xF] ^ _CRC[nib]
    return crc


def fit_file(body: bytes) -> bytes:
    """A complete FIT file: header (protocol 2.0, profile 21.32) + ``body`` + file CRC."""
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", fit_crc(header))
    data = header + body
    return data + struct.pack("<H", fit_crc(data))
