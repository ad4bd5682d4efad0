"""What a benchmark run measures (its settings) and what it reports (rows of one table)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    runs: int  # each figure is the best of this many runs
    sync_posts: int = 20
    images_per_post: int = 4
    latency: float = 0.05  # seconds the fake server adds to every request
    big_file_mib: int = 90
    limited_posts: int = 6
    media_limit: tuple[int, int] = (8, 4)  # uploads per window of seconds, scaled down from 30 per 1800 s
    plan_sizes: tuple[int, int] = (1_000, 10_000)
    help_runs: int = 5
    accounts: int = 4  # (f): accounts synced as parallel lanes, each to its own server
    account_posts: int = 4  # (f): posts per account, each with images_per_post images


FULL = Settings(runs=3)
QUICK = Settings(runs=1, limited_posts=4, plan_sizes=(500, 2_000), help_runs=3, account_posts=2)


@dataclass(frozen=True)
class Row:
    measurement: str
    result: str
    reference: str = ""
    target: str = ""
    passed: bool | None = None  # None: reported for information, no target

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "**FAIL**", None: ""}[self.passed]


def full_run_target(full_size: bool, target: str, passed: bool) -> tuple[str, bool | None]:
    """A target set for the full run's sizes: judged at those sizes; at --quick's smaller ones only shown."""
    return (target, passed) if full_size else (f"{target} (for the full run)", None)


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def ratio(value: float) -> str:
    return f"{value:.2f}×"


def markdown_table(rows: list[Row]) -> str:
    lines = ["| Measurement | Result | Reference | Target | |", "|---|---|---|---|---|"]
    for row in rows:
        cells = (row.measurement, row.result, row.reference, row.target, row.verdict)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"
