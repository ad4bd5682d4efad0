"""What a sync reports as it goes: one event per step, for progress output and the summary."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncEvent:
    action: str  # created, scheduled, rescheduled, edited, deleted, adopted, failed, stopped, waiting, ...
    post_id: str  # "" for what is about a whole lane (stopped, waiting) or the whole run (pacing)
    url: str | None = None
    detail: str = ""
    account: str = ""  # the lane's account; on lane events only when a run has several lanes
