"""What a sync reports as it goes: one event per step, for progress output and the summary."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SyncEvent:
    action: str  # created, scheduled, rescheduled, edited, deleted, adopted
    post_id: str
    url: str | None = None
    detail: str = ""
