"""The exactly-once invariant, checked against what the server holds and what the state file says."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from publisher.plan.state import StateStore


def server_texts(server) -> Counter:
    texts = Counter(status["text"] for status in server.statuses.values())
    texts.update(entry["params"]["text"] for entry in server.scheduled.values())
    return texts


def check_exactly_once(server, config: Path, expected_texts: list[str]) -> dict[str, int]:
    """Counts of duplicated and lost posts and of state/server mismatches: all must be zero."""
    on_server = server_texts(server)
    duplicates = sum(count - 1 for count in on_server.values() if count > 1)
    lost = sum(1 for text in expected_texts if on_server[text] == 0)
    state = StateStore(config.parent / "publish.state.json").load()
    recorded = {record.status_id for record in state.posts.values() if record.status_id}
    scheduled = {record.scheduled_id for record in state.posts.values() if record.scheduled_id}
    mismatched = len(recorded ^ set(server.statuses)) + len(scheduled ^ set(server.scheduled))
    mismatched += len(state.pending)
    return {"duplicates": duplicates, "lost": lost, "mismatched": mismatched}
