"""Media files of a post: confined to the repository, typed by content, hashed in chunks."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

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


Resolve = Callable[[Path], Path]


class MediaFileError(Exception):
    def __init__(self, message: str, hint: str = ""):
        self.hint = hint
        super().__init__(message)


def resolve_media_path(
    entry_path: str,
    post_file: Path,
    root: Path,
    *,
    real_root: Path | None = None,
    resolve: Resolve = Path.resolve,
) -> Path:
    """The real file a post's `media[].path` names; it must stay inside the repository.

    `real_root`: root.resolve() when the caller has it; `resolve`: Path.resolve, or the same but faster."""
    if PurePosixPath(entry_path).is_absolute() or Path(entry_path).is_absolute():
        raise MediaFileError("absolute paths are not allowed", "write the path relative to the post file")
    candidate = post_file.parent / entry_path
    real_root = real_root or root.resolve()
    real = resolve(candidate)
    if not real.is_relative_to(real_root):
        raise MediaFileError("points outside the repository", "keep media files inside the repository")
    if not real.is_file():
        raise MediaFileError(f"file not found: {entry_path}", "check the path, relative to the post file")
    return real


class MediaPaths:
    """resolve_media_path for the many media files of one run: the root and each folder are resolved once
    (Path.resolve asks the file system about every folder on the way, every time)."""

    def __init__(self, root: Path):
        self.root = root
        self.real_root = root.resolve()
        self._real_folders: dict[Path, Path] = {}

    def resolve(self, entry_path: str, post_file: Path) -> Path:
        return resolve_media_path(
            entry_path, post_file, self.root, real_root=self.real_root, resolve=self._real_path
        )

    def _real_path(self, path: Path) -> Path:
        """What path.resolve() gives: its folder's real path, then the file's own symlink, if it is one."""
        if path.name in ("", ".", ".."):
            return path.resolve()
        folder = self._real_folders.get(path.parent)
        if folder is None:
            folder = self._real_folders[path.parent] = path.parent.resolve()
        leaf = folder / path.name
        return leaf.resolve() if leaf.is_symlink() else leaf


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
