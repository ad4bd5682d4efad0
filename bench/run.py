"""Benchmark of `publish` on loopback: prints one table and writes it to bench/RESULTS.md.

Usage: python bench/run.py [--quick] [--output PATH]   (see bench/README.md for what each row means)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from network import memory_rows, rate_limited_rows, sync_rows
from planning import help_rows, plan_rows
from rows import FULL, QUICK, Row, Settings, markdown_table

RESULTS = Path(__file__).with_name("RESULTS.md")


def measure_all(settings: Settings, workdir: Path) -> list[Row]:
    steps = [
        ("(e) publish --help", lambda: help_rows(settings)),
        ("(a) sync with latency", lambda: sync_and_memory(settings, workdir)),
        ("(c) rate-limited sync", lambda: rate_limited_rows(settings, workdir)),
        ("(d) no-op plan", lambda: plan_rows(settings, workdir)),
    ]
    rows: list[Row] = []
    for label, step in steps:
        started = time.perf_counter()
        print(f"measuring {label} ...", file=sys.stderr, flush=True)
        rows += step()
        print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return sorted(rows, key=lambda row: row.measurement[:3])  # (a) .. (e), each group in its own order


def sync_and_memory(settings: Settings, workdir: Path) -> list[Row]:
    rows, empty = sync_rows(settings, workdir)
    return rows + memory_rows(settings, workdir, empty)


def report(rows: list[Row], elapsed: float, quick: bool, load: float) -> str:
    machine = (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, Python {platform.python_version()}"
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine += f", load average {load:.1f} before the run (about 0 when nothing else runs)"
    mode = "--quick" if quick else "full"
    return (
        f"# Benchmark results\n\n{when}; {machine}; {mode} run in {elapsed:.0f} s; each time is the "
        "fastest of a few runs (see bench/README.md).\nReproduce: `python bench/run.py`\n\n"
        + markdown_table(rows)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller plans; prints only")
    parser.add_argument(
        "--output", type=Path, help=f"write the table here (default: {RESULTS.name} unless --quick)"
    )
    options = parser.parse_args(argv)
    settings = QUICK if options.quick else FULL
    load, started = os.getloadavg()[0], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="publish-bench-") as workdir:
        rows = measure_all(settings, Path(workdir))
    text = report(rows, time.perf_counter() - started, options.quick, load)
    print(text)
    output = options.output or (None if options.quick else RESULTS)
    if output is not None:
        output.write_text(text, encoding="utf-8")
        print(f"written to {output}", file=sys.stderr)
    return 0  # a missed target is a finding shown in the table, not a failure of the benchmark


if __name__ == "__main__":
    sys.exit(main())
