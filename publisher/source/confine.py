"""One rule for every file publish reads or writes for a repository: it resolves, symlinks followed, inside
the repository root (the folder holding publish.toml). A symlink that stays inside is fine."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

OUTSIDE_HINT = "keep it inside the repository (the folder of publish.toml); a symlink may point only inside"
# Opening with this flag fails (ELOOP) on a symlink: only symlinks then pay for resolving the path.
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
SYMLINK_REFUSED = (errno.ELOOP, errno.EMLINK)  # opening a symlink with O_NOFOLLOW: ELOOP (BSD: EMLINK)
READ_CHUNK = 1 << 16


class RefusedPath(Exception):
    """A path that leads out of the repository, loops, or cannot be looked at; the caller names the file."""

    def __init__(self, message: str, hint: str = OUTSIDE_HINT):
        self.hint = hint
        super().__init__(message)


def unusable(exc: OSError) -> RefusedPath:
    """The RefusedPath for a path the file system will not resolve or open."""
    if exc.errno == errno.ENAMETOOLONG:
        return RefusedPath("the path is too long", "shorten the path or the names in it")
    if exc.errno == errno.ELOOP:
        return RefusedPath("is a symlink loop", "fix or remove the symlink")
    return RefusedPath(f"cannot be read: {exc.strerror or exc}", "check that the file exists and is readable")


class Confinement:
    """Real paths under one root. Each folder is resolved once (Path.resolve asks the file system about
    every folder on the way, every time); a file's own symlink is followed on every call."""

    def __init__(self, root: Path):
        self.root = root
        self.real_root = root.resolve()
        self._real_folders: dict[Path, Path] = {}

    def real_path(self, path: Path) -> Path:
        """What path.resolve() gives; RefusedPath when that is outside the root, a loop or unusable."""
        try:
            real = self._resolved(path)
        except RuntimeError:  # how Path.resolve reports a symlink loop before Python 3.13
            raise RefusedPath("is a symlink loop", "fix or remove the symlink") from None
        except OSError as exc:
            raise unusable(exc) from None
        if not real.is_relative_to(self.real_root):
            raise RefusedPath(f"points outside the repository (to {real})")
        return real

    def setting(self, relative: str) -> Path:
        """root / relative for a path written in publish.toml: relative, and resolving inside the root."""
        normal = os.path.normpath(relative)
        if os.path.isabs(normal) or normal == os.pardir or normal.startswith(os.pardir + os.sep):
            raise RefusedPath("is outside the repository", "write a path relative to publish.toml, inside it")
        path = self.root / relative
        self.real_path(path)
        return path

    def is_regular_file(self, real: Path) -> bool:
        """Whether a real path is a regular file (not a folder, pipe or device); False when it is missing."""
        try:
            return stat.S_ISREG(os.stat(real).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except OSError as exc:
            raise unusable(exc) from None

    def read_bytes(self, path: str | Path) -> bytes:
        """A regular file's bytes, following a symlink only inside the root. Its folder must be inside the
        root already (a posts folder from the config, never entered through a symlink)."""
        if not NO_FOLLOW:
            return read_handle(self._open_real(Path(path)))
        try:
            handle = _open_regular(path, NO_FOLLOW)
        except OSError as exc:
            if exc.errno not in SYMLINK_REFUSED:
                raise unusable(exc) from None
            handle = self._open_real(Path(path))
        return read_handle(handle)

    def _open_real(self, path: Path) -> int:
        try:
            return _open_regular(self.real_path(path), 0)
        except OSError as exc:
            raise unusable(exc) from None

    def _resolved(self, path: Path) -> Path:
        if path.name in ("", ".", ".."):
            return path.resolve()
        folder = self._real_folders.get(path.parent)
        if folder is None:
            folder = self._real_folders[path.parent] = path.parent.resolve()
        leaf = folder / path.name
        return leaf.resolve() if leaf.is_symlink() else leaf


def read_regular(path: Path) -> bytes:
    """A file publish writes itself (a cache): read only when it is a regular file, never through a symlink.
    OSError when it cannot be opened (FileNotFoundError when missing), RefusedPath when it is no file."""
    return read_handle(_open_regular(path, NO_FOLLOW))


def _open_regular(path: str | Path, flags: int) -> int:
    """An open handle on a regular file; a pipe is opened without waiting for a writer, then refused."""
    handle = os.open(path, os.O_RDONLY | flags | getattr(os, "O_NONBLOCK", 0))
    if not stat.S_ISREG(os.fstat(handle).st_mode):
        os.close(handle)
        raise RefusedPath("is not a regular file", "replace it with a file")
    return handle


def utf8_text(data: bytes) -> str:
    """The text Path.read_text(encoding="utf-8") gives for these bytes: universal newlines; UnicodeDecodeError
    when they are not UTF-8."""
    return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")


def read_handle(handle: int) -> bytes:
    """An open file's bytes, without the io module's layers (a quarter of Path.read_bytes' time); closed."""
    try:
        chunks = []
        while chunk := os.read(handle, READ_CHUNK):
            chunks.append(chunk)
    finally:
        os.close(handle)
    return b"".join(chunks)
