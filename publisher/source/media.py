"""Media files of a post: confined to the repository, typed by content, hashed in chunks."""

from __future__ import annotations

import hashlib
from pathlib import Path, PurePosixPath

from publisher.source.confine import Confinement, RefusedPath

CHUNK = 1 << 20

_ISO_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"msf1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
    b"qt  ": "video/quicktime",
}


class MediaFileError(Exception):
    def __init__(self, message: str, hint: str = ""):
        self.hint = hint
        super().__init__(message)


def resolve_media_path(
    entry_path: str, post_file: Path, root: Path, *, confinement: Confinement | None = None
) -> Path:
    """The real file a post's `media[].path` names; it must stay inside the repository.

    `confinement`: the run's Confinement of root, which resolves each folder once."""
    if PurePosixPath(entry_path).is_absolute() or Path(entry_path).is_absolute():
        raise MediaFileError("absolute paths are not allowed", "write the path relative to the post file")
    confinement = confinement or Confinement(root)
    try:
        real = confinement.real_path(post_file.parent / entry_path)
        found = confinement.is_regular_file(real)
    except RefusedPath as exc:
        raise MediaFileError(str(exc), exc.hint) from None
    if not found:
        raise MediaFileError(f"file not found: {entry_path}", "check the path, relative to the post file")
    return real


class MediaPaths:
    """resolve_media_path for the many media files of one run, sharing one Confinement."""

    def __init__(self, root: Path):
        self.root = root
        self.confinement = Confinement(root)
        self.real_root = self.confinement.real_root

    def resolve(self, entry_path: str, post_file: Path) -> Path:
        return resolve_media_path(entry_path, post_file, self.root, confinement=self.confinement)


def sniff_mime_type(head: bytes) -> str | None:
    """The MIME type by magic bytes, never by extension."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE"):
        return "image/webp" if head[8:12] == b"WEBP" else "audio/wave"
    if head[4:8] == b"ftyp":
        return _ISO_BRANDS.get(head[8:12], "audio/mp4" if head[8:11] == b"M4A" else "video/mp4")
    return _sniff_stream(head)


def _sniff_stream(head: bytes) -> str | None:
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return None


def media_kind(mime_type: str) -> str:
    """image, video or audio: the family whose size limit applies (gif counts as image on upload)."""
    return mime_type.split("/", 1)[0]


def file_digest(path: Path) -> tuple[str, int, bytes]:
    """sha256, size and the first bytes (for sniffing), reading the file once in chunks."""
    digest = hashlib.sha256()
    size = 0
    head = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if not head:
                head = chunk[:64]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size, head
