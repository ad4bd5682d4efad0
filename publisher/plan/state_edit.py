"""`publish state mv` and `publish state rm`: change what the state file records, never the server.

Terraform's `state mv` / `state rm`: for a rename the plan cannot see (the content changed too), or to
forget a status deleted by hand. Both refuse to run while a sync holds the lock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from publisher.errors import InvalidInput, LockTimeout, Problem, did_you_mean
from publisher.plan.state import State, StateStore, StatusRecord
from publisher.source.config import load_config


def move_record(config_path: Path, old: str, new: str) -> StatusRecord | None:
    """The record of `old` (and every reply to it) under `new`; the record, None for an intent only."""
    store = _store(config_path)
    with _unless_syncing(store):
        state = store.load()
        _known(store, state, old)
        if new in state.posts or new in state.pending:
            hint = f"`publish state rm {new}` first if that record is stale"
            raise InvalidInput([Problem(store.shown, None, "state", f"{new!r} is already recorded", hint)])
        state = state.moved(old, new)
        store.save(state)
    return state.posts.get(new)


def remove_record(config_path: Path, post_id: str) -> StatusRecord | None:
    """Forget `post_id` (its status stays on the server); the record it had, None for an intent only."""
    store = _store(config_path)
    with _unless_syncing(store):
        state = store.load()
        _known(store, state, post_id)
        record = state.posts.get(post_id)
        store.save(state.without(post_id))
    return record


@contextmanager
def _unless_syncing(store: StateStore) -> Iterator[None]:
    try:
        with store.lock(timeout=0):
            yield
    except LockTimeout:
        raise LockTimeout(
            f"a `publish sync` holds {store.shown}.lock: the state file is left as it is",
            hint="run this again when the sync has finished",
        ) from None


def _store(config_path: Path) -> StateStore:
    return StateStore.for_config(load_config(config_path))


def _known(store: StateStore, state: State, post_id: str) -> None:
    if post_id in state.posts or post_id in state.pending:
        return
    hint = (
        did_you_mean(post_id, [*state.posts, *state.pending]) or "`publish state` lists the recorded post ids"
    )
    raise InvalidInput([Problem(store.shown, None, "state", f"no record of {post_id!r}", hint)])
