"""The state file: round trip, stable bytes, atomic replacement."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from publisher.errors import InvalidInput
from publisher.plan.state import MediaRecord, PendingCreate, State, StateStore, StatusRecord, serialize

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def sample_state() -> State:
    record = StatusRecord(
        source="posts/a.md",
        account="main",
        status_id="109",
        url="https://m.example/@me/109",
        content_hash="sha256:abc",
        idempotency_key="publish-k",
        text="Hällo 👋",
        recorded_at=NOW,
        media=(MediaRecord(path="posts/a.png", sha256="f" * 64, media_id="7", alt="alt", focus=(0.5, -0.5)),),
    )
    pending = PendingCreate(content_hash="sha256:def", idempotency_key="publish-j", started_at=NOW)
    return State(posts={"b": record, "a": record}, pending={"c": pending})


def test_round_trip(tmp_path):
    store = StateStore(tmp_path / "publish.state.json")
    store.save(sample_state())
    assert store.load() == sample_state()


def test_missing_file_is_empty_state(tmp_path):
    assert StateStore(tmp_path / "none.json").load() == State()


def test_output_is_stable_sorted_and_pretty(tmp_path):
    path = tmp_path / "publish.state.json"
    StateStore(path).save(sample_state())
    first = path.read_bytes()
    StateStore(path).save(StateStore(path).load())
    assert path.read_bytes() == first
    text = first.decode()
    assert text.endswith("\n") and text.startswith('{\n  "pending"')
    assert text.index('"a"') < text.index('"b"')
    assert "Hällo 👋" in text  # readable in git diffs, not \u escapes
    assert json.loads(text)["version"] == 1


def test_crash_between_write_and_replace_leaves_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "publish.state.json"
    store = StateStore(path)
    store.save(State())
    before = path.read_bytes()

    def crash(src, dst):
        raise OSError("simulated crash before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        store.save(sample_state())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["publish.state.json"]


def test_stale_temp_file_from_a_killed_run_is_ignored_and_cleaned(tmp_path):
    path = tmp_path / "publish.state.json"
    store = StateStore(path)
    store.save(sample_state())
    stale = tmp_path / ".publish-state-x1.publish-tmp"
    stale.write_text('{"version": 1, "posts": {"half')
    assert store.load() == sample_state()
    store.remove_stale_temp_files()
    assert not stale.exists()


@pytest.mark.parametrize("content", ["", "{", '{"version": 2}', '{"posts": []}'])
def test_invalid_file_raises_invalid_input(tmp_path, content):
    path = tmp_path / "publish.state.json"
    path.write_text(content)
    with pytest.raises(InvalidInput) as error:
        StateStore(path).load()
    assert "publish.state.json" in str(error.value)
    assert path.read_text() == content


def test_state_updates_are_immutable():
    state = State()
    record = sample_state().posts["a"]
    pending = sample_state().pending["c"]
    after = state.with_pending("a", pending).with_record("a", record)
    assert state == State()
    assert after.posts == {"a": record} and after.pending == {}
    assert after.without("a") == State()
    assert serialize(after) != serialize(state)


def test_repeated_saves_write_exactly_what_serialize_writes(tmp_path):
    """A sync saves after every change and re-encodes only changed records; the bytes never differ."""
    path = tmp_path / "publish.state.json"
    store = StateStore(path)
    state = sample_state()
    edited = state.posts["a"].model_copy(update={"text": 'line\nbreak "quoted" \\ \u2028 tab\t'})
    intent = PendingCreate(
        content_hash="sha256:1", idempotency_key="publish-1", started_at=NOW, media_count=3
    )
    steps = [
        lambda s: s,
        lambda s: s.with_record("a", edited),  # same key, another record
        lambda s: s.with_pending("ü-new", intent),  # a key that sorts last and needs no escaping
        lambda s: s.with_record("ü-new", edited),  # the intent becomes a record under the same key
        lambda s: s.without("b"),
        lambda s: s.without("a").without("ü-new").without("c"),  # empty sections
    ]
    for step in steps:
        state = step(state)
        store.save(state)
        assert path.read_text(encoding="utf-8") == serialize(state)
    assert set(State.model_fields) == {"version", "posts", "pending"}  # what the fast path writes


def test_moving_an_interrupted_create_moves_its_intent():
    """`publish state mv` takes an id that has only an intent (an interrupted create); it used to crash."""
    state = sample_state()
    moved = state.moved("c", "d")
    assert set(moved.pending) == {"d"} and moved.pending["d"] == state.pending["c"]
    assert moved.posts == state.posts
