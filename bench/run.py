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
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from network import memory_rows, parallel_lanes_rows, rate_limited_rows, sync_rows
from planning import help_rows, plan_rows
from rows import FULL, QUICK, Row, Settings, markdown_table

RESULTS = Path(__file__).with_name("RESULTS.md")
T = TypeVar("T")


def measure_all(settings: Settings, workdir: Path) -> list[Row]:
    """Every row from this one run; (e) first: (a)'s pipelined minimum starts with its `publish --help`."""
    help_table, publish_help = step("(e) publish --help", lambda: help_rows(settings))
    rows = help_table
    rows += step("(a) sync with latency", lambda: sync_and_memory(settings, workdir, publish_help.seconds))
    rows += step("(c) rate-limited sync", lambda: rate_limited_rows(settings, workdir))
    rows += step("(f) accounts as parallel lanes", lambda: parallel_lanes_rows(settings, workdir))
    rows += step("(d) no-op plan", lambda: plan_rows(settings, workdir))
    return sorted(rows, key=lambda row: row.measurement[:3])  # (a) .. (f), each group in its own order


def step(label: str, measure: Callable[[], T]) -> T:
    started = time.perf_counter()
    print(f"measuring {label} ...", file=sys.stderr, flush=True)
    result = measure()
    print(f"  done in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return result


def sync_and_memory(settings: Settings, workdir: Path, help_seconds: float) -> list[Row]:
    rows, empty = sync_rows(settings, workdir, help_seconds)
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
