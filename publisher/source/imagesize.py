"""Pixel dimensions of PNG, JPEG, GIF and WebP files, read from their headers (no image library)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

HEADER_BYTES = 32
# JPEG start-of-frame markers carry the size: C0-CF except DHT (C4), JPG (C8) and DAC (CC).
JPEG_FRAME_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
JPEG_STANDALONE_MARKERS = frozenset(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI, TEM: no length
JPEG_MAX_SEGMENTS = 4096  # a corrupt file must not keep us reading


def image_dimensions(path: Path, mime_type: str) -> tuple[int, int] | None:
    """(width, height) in pixels, or None for other types or headers we cannot read."""
    with path.open("rb") as handle:
        if mime_type == "image/jpeg":
            return _jpeg(handle)
        head = handle.read(HEADER_BYTES)
    readers = {"image/png": _png, "image/gif": _gif, "image/webp": _webp}
    reader = readers.get(mime_type)
    return reader(head) if reader else None


def _png(head: bytes) -> tuple[int, int] | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", head[16:24])


def _gif(head: bytes) -> tuple[int, int] | None:
    if len(head) < 10:
        return None
    return struct.unpack("<HH", head[6:10])  # the logical screen, which every frame fits in


def _webp(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg(handle: BinaryIO) -> tuple[int, int] | None:
    """Walk the segments after SOI until a start-of-frame; EXIF and other segments are skipped, not read."""
    if handle.read(2) != b"\xff\xd8":
        return None
    for _ in range(JPEG_MAX_SEGMENTS):
        marker = _next_marker(handle)
        if marker is None or marker == 0xD9:
            return None
        if marker in JPEG_STANDALONE_MARKERS:
            continue
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if marker in JPEG_FRAME_MARKERS:
            return _jpeg_frame_size(handle.read(5))
        handle.seek(length - 2, 1)
    return None


def _jpeg_frame_size(frame: bytes) -> tuple[int, int] | None:
    """A start-of-frame segment begins with precision (1 byte), height and width (2 bytes each)."""
    if len(frame) < 5:
        return None
    height, width = struct.unpack(">HH", frame[1:5])
    return width, height


def _next_marker(handle: BinaryIO) -> int | None:
    """The next marker code, skipping the 0xFF fill bytes allowed before it."""
    byte = handle.read(1)
    if byte != b"\xff":
        return None
    while byte == b"\xff":
        byte = handle.read(1)
    return byte[0] if byte else None
