"""`python -m tests.publish_at TIME ARG…`: the `publish` command, its clock starting at TIME (ISO 8601).

Tests that run `publish` in a process of its own use this, so what is due does not depend on the day they run.
Time goes on from TIME at the real pace, and sleeps are real.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from publisher.cli import Collaborators, main
from publisher.clock import SystemClock, parse_iso8601


class ShiftedClock(SystemClock):
    def __init__(self, start: datetime):
        self._start, self._started = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)


if __name__ == "__main__":
    start, *arguments = sys.argv[1:]
    main(arguments, obj=Collaborators(clock=ShiftedClock(parse_iso8601(start))))
