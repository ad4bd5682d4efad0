"""A share of the work done in a forked copy of this process, on another core, its result sent back as bytes.

Only speed depends on it: whoever asks must be able to do the work itself when no helper could be started
or it failed, and then get the same result. Forking is left alone where it is not dependable: away from
Linux (macOS frameworks and Windows), with a single usable core, and in a process running more than one
thread (a lock another thread holds at the fork stays held in the copy for ever).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable
from types import TracebackType

CHUNK = 1 << 20


def can_fork() -> bool:
    return (
        sys.platform == "linux"
        and hasattr(os, "fork")
        and len(os.sched_getaffinity(0)) > 1
        and threading.active_count() == 1
    )


class Helper:
    """A forked child computing `work()`; `result()` waits for its bytes, None if it failed."""

    def __init__(self, pid: int, pipe: int):
        self._pid = pid
        self._pipe = pipe
        self._done = False

    def result(self) -> bytes | None:
        if self._done:
            return None
        chunks = []
        try:
            while chunk := os.read(self._pipe, CHUNK):
                chunks.append(chunk)
        finally:
            self._close()
        _, status = os.waitpid(self._pid, 0)
        return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None

    def stop(self) -> None:
        """End the child if its result was never asked for (the caller failed on the way)."""
        if not self._done:
            self._close()
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)

    def _close(self) -> None:
        self._done = True
        os.close(self._pipe)

    def __enter__(self) -> Helper:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.stop()


def start_helper(work: Callable[[], bytes]) -> Helper | None:
    """`work` running in a forked child; None where forking is not dependable (see the module's notes)."""
    if not can_fork():
        return None
    for stream in (sys.stdout, sys.stderr):  # the child must not write what the parent buffered again
        if stream is not None:
            stream.flush()
    reading, writing = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reading)
        _run_child(work, writing)
    os.close(writing)
    return Helper(pid, reading)


def _run_child(work: Callable[[], bytes], pipe: int) -> None:
    """Never returns: the child leaves with os._exit, running no exit handlers and flushing nothing."""
    code = 1
    try:
        data = memoryview(work())
        while data:
            data = data[os.write(pipe, data) :]
        code = 0
    except BaseException:  # noqa: BLE001, S110 - a failed helper only costs speed: the parent does the work
        pass
    finally:
        os._exit(code)
