"""Sync progress from SyncEvents: one plain line per event (CI, pipes), or a live display on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from publisher.output.terminal import styled
from publisher.output.text import sync_event_line

# Actions that end the work on a post; "started", "uploading" and "uploaded" mark steps in between.
FINISHED = {
    "created": "create",
    "edited": "update",
    "scheduled": "schedule",
    "deleted": "delete",
    "adopted": "update",
}


@contextmanager
def sync_progress(*, live: bool, colour: bool, echo: Callable[[str], None] | None) -> Iterator[Callable]:
    """The on_event callback for a sync: silent without echo, plain lines unless live, else a rich display."""
    if echo is None:
        yield lambda event: None
    elif not live:
        yield lambda event: echo(sync_event_line(event))
    else:
        from rich.console import Console

        with LiveProgress(Console(no_color=not colour, highlight=False)) as progress:
            yield progress.on_event


class LiveProgress:
    """A spinner per post under way and per upload; finished posts are printed above the display."""

    def __init__(self, console):
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        self.progress = Progress(*columns, console=console, transient=True)
        self.overall = self.progress.add_task("syncing: 0 posts done", total=None)
        self.done: dict[str, int] = {}  # by account (lanes run side by side)
        self.steps: dict[tuple[str, str], object] = {}

    def __enter__(self) -> LiveProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.progress.stop()

    def on_event(self, event) -> None:
        if event.action == "started":
            self._open(event.post_id, "post", f"{event.detail or 'syncing'} {event.post_id}")
        elif event.action == "uploading":
            self._open(event.post_id, "upload", f"  {event.post_id}: uploading {event.detail}".rstrip())
        elif event.action == "uploaded":
            self._close(event.post_id, "upload")
            self._print(event, "dim")
        else:
            self._finish(event)

    def _finish(self, event) -> None:
        self._close(event.post_id, "upload")
        self._close(event.post_id, "post")
        self._print(event, FINISHED.get(event.action, ""))
        if event.action in FINISHED:
            self.done[event.account] = self.done.get(event.account, 0) + 1
            self.progress.update(self.overall, description=overall_line(self.done))

    def _open(self, post_id: str, step: str, description: str) -> None:
        self._close(post_id, step)
        self.steps[(post_id, step)] = self.progress.add_task(description, total=None)

    def _close(self, post_id: str, step: str) -> None:
        task = self.steps.pop((post_id, step), None)
        if task is not None:
            self.progress.remove_task(task)

    def _print(self, event, style: str) -> None:
        self.progress.console.print(styled([(sync_event_line(event), style)]), soft_wrap=True)


def overall_line(done: dict[str, int]) -> str:
    """'syncing: 5 posts done', and how many of them each account's lane did when there are several."""
    total = sum(done.values())
    line = f"syncing: {total} {'post' if total == 1 else 'posts'} done"
    if len(done) < 2:
        return line
    return line + " (" + ", ".join(f"{account} {count}" for account, count in sorted(done.items())) + ")"
