"""Run a command as a child process; measure its wall time and peak resident memory."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from repos import TOKEN_ENV

CHILD_TIMEOUT = 120.0
LAUNCHER = Path(__file__).with_name("launcher.py")
LOOPBACK = "127.0.0.1,localhost"


@dataclass(frozen=True)
class Measured:
    seconds: float
    max_rss_mib: float
    returncode: int
    stdout: str
    stderr: str
    cpu_seconds: float = 0.0  # user + system time of the child: barely moved by other processes
    requests: int = 0  # what the fake server received, when one was involved
    started_at: float = 0.0  # time.time() when the child was spawned


class BenchFailure(Exception):
    """A measured command did not do what the row claims; the figure would mean nothing."""


def run_measured(command: list[str], *, env: Mapping[str, str] | None = None) -> Measured:
    """Wall time from spawn to exit, and the child's own peak RSS and CPU time (os.wait4's rusage).

    The child is spawned by bench/launcher.py, a bare interpreter that reports them: spawned from this
    process, a child's ru_maxrss would be at least this process's own peak (see launcher.py)."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = Path(tmp) / "report"
        launch = [sys.executable, "-I", str(LAUNCHER), str(report), str(CHILD_TIMEOUT), *command]
        process = subprocess.Popen(launch, stdout=out, stderr=err, env=env)
        try:
            process.wait(CHILD_TIMEOUT + 30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        out.seek(0)
        err.seek(0)
        text = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
        if process.returncode != 0 or not report.exists():
            raise BenchFailure(f"the launcher of {command} exited with {process.returncode}:\n{text[1]}")
        started_at, seconds, max_rss_kib, cpu, returncode = report.read_text(encoding="utf-8").split()
    rss_mib = int(max_rss_kib) / 1024
    return Measured(
        float(seconds), rss_mib, int(returncode), *text, cpu_seconds=float(cpu), started_at=float(started_at)
    )


def checked(measured: Measured, what: str) -> Measured:
    if measured.returncode != 0:
        raise BenchFailure(f"{what} exited with {measured.returncode}:\n{measured.stdout}\n{measured.stderr}")
    return measured


def best_of(runs: int, measure: Callable[[], Measured]) -> Measured:
    """The fastest of `runs` runs (and the least CPU time among them): noise only ever adds time."""
    return fastest([measure() for _ in range(runs)])


def fastest(measured: list[Measured]) -> Measured:
    quickest = min(measured, key=lambda run: run.seconds)
    return replace(quickest, cpu_seconds=min(run.cpu_seconds for run in measured))


def publish_command(*args: str) -> list[str]:
    """The installed `publish` script beside this interpreter, as a user runs it."""
    script = Path(sys.executable).with_name("publish")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "publisher", *args]


def child_env(token: str = "") -> dict[str, str]:
    """The environment of every child: loopback never goes through a proxy; the token when one is needed.

    Bytecode is cached as on a user's machine (a sandbox may set PYTHONDONTWRITEBYTECODE, which would have
    every run compile publish's own modules again: about 0.1 s)."""
    env = {**os.environ, "NO_PROXY": LOOPBACK, "no_proxy": LOOPBACK}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if token:
        env[TOKEN_ENV] = token
    return env
