"""Start one command from a small process and report its own wall time, peak RSS and CPU time.

Usage: python -I bench/launcher.py REPORT_PATH TIMEOUT_SECONDS COMMAND...   (run by measure.run_measured)

Why a separate process: Linux records in a child's ru_maxrss the peak RSS of the process it was spawned from
(at exec, the old address space's high-water mark goes into the child's maxrss), so a command spawned by
the benchmark itself, after its fake servers held a 90 MiB upload or it loaded 10,000 posts, would report the
benchmark's peak instead of its own. This launcher is a bare interpreter (about 10 MiB), below any command
measured.
The command inherits stdin, stdout, stderr and the environment; the report is one line:
`started_at seconds max_rss_kib cpu_seconds returncode` (started_at: time.time() at the spawn).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time


def main(report: str, timeout: str, *command: str) -> int:
    started_at, start = time.time(), time.perf_counter()
    process = subprocess.Popen(command)
    watchdog = threading.Timer(float(timeout), process.kill)
    watchdog.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        watchdog.cancel()
    seconds = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped here, so Popen must not wait again
    cpu = usage.ru_utime + usage.ru_stime
    with open(report, "w", encoding="utf-8") as handle:
        handle.write(f"{started_at} {seconds} {usage.ru_maxrss} {cpu} {process.returncode}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
