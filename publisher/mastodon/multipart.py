"""multipart/form-data request bodies read from disk in chunks: memory stays flat whatever the file size."""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Mapping
from typing import Any, BinaryIO

CRLF = b"\r\n"
# HTML5's escaping of quoted header parameters (what browsers and urllib3 send).
_PARAM_ESCAPES = {ord('"'): "%22", ord("\r"): "%0D", ord("\n"): "%0A"}


class FileChangedError(OSError):
    """A file shrank while it was being sent: the declared Content-Length can no longer be honoured."""


class MultipartBody:
    """A file-like request body: text fields first, then each file streamed from where its handle stands.

    requests sends any object with `read` and `__len__` as a stream with that Content-Length. Build a new
    one for every attempt: it reads each handle from the position it had when the body was built."""

    def __init__(self, fields: Mapping[str, Any], files: Mapping[str, Any], boundary: str | None = None):
        self.boundary = boundary or secrets.token_hex(16)
        self._segments: list[bytes | tuple[BinaryIO, int]] = []
        for name, value in fields.items():
            self._segments.append(self._part_head(name) + str(value).encode("utf-8") + CRLF)
        for name, spec in files.items():
            filename, handle, content_type = _file_spec(name, spec)
            self._segments.append(self._part_head(name, filename, content_type))
            self._segments += [(handle, _remaining_bytes(handle)), CRLF]
        self._segments.append(b"--" + self.boundary.encode("ascii") + b"--" + CRLF)
        self._length = sum(len(s) if isinstance(s, bytes) else s[1] for s in self._segments)
        self._index = 0
        self._sent_of_segment = 0

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def read(self, size: int | None = -1) -> bytes:
        """Up to `size` bytes (all that is left when size is negative); b"" at the end."""
        wanted = self._length if size is None or size < 0 else size
        pieces: list[bytes] = []
        while wanted > 0 and self._index < len(self._segments):
            piece = self._read_segment(wanted)
            pieces.append(piece)
            wanted -= len(piece)
        return b"".join(pieces)

    def _read_segment(self, wanted: int) -> bytes:
        segment = self._segments[self._index]
        if isinstance(segment, bytes):
            piece = segment[self._sent_of_segment : self._sent_of_segment + wanted]
            total = len(segment)
        else:
            handle, total = segment
            piece = handle.read(min(wanted, total - self._sent_of_segment))
            if not piece:
                name = getattr(handle, "name", "a file")
                raise FileChangedError(f"{name} shrank while it was being uploaded")
        self._sent_of_segment += len(piece)
        if self._sent_of_segment >= total:
            self._index, self._sent_of_segment = self._index + 1, 0
        return piece

    def _part_head(self, name: str, filename: str | None = None, content_type: str | None = None) -> bytes:
        disposition = f'form-data; name="{_quote(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quote(filename)}"'
        lines = [f"--{self.boundary}", f"Content-Disposition: {disposition}"]
        if filename is not None:
            lines.append(f"Content-Type: {content_type or 'application/octet-stream'}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def _quote(value: str) -> str:
    return value.translate(_PARAM_ESCAPES)


def _file_spec(name: str, spec: Any) -> tuple[str, BinaryIO, str | None]:
    """requests' `files=` forms: a handle or bytes, or (filename, handle or bytes[, content type])."""
    if not isinstance(spec, tuple):
        spec = (os.path.basename(str(getattr(spec, "name", name))), spec)
    filename, content = str(spec[0]), spec[1]
    content_type = spec[2] if len(spec) > 2 else None
    handle = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    return filename, handle, content_type


def _remaining_bytes(handle: BinaryIO) -> int:
    start = handle.tell()
    end = handle.seek(0, os.SEEK_END)
    handle.seek(start)
    return end - start
