"""Renamed post files: a post id that left the state while a new one with the same content arrived is a move.

Pure functions of (rendered posts, state): the record follows the new id, and nothing is sent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from publisher.plan.state import State
from publisher.source.models import DesiredStatus


def find_moves(desired: Sequence[DesiredStatus], state: State) -> dict[str, str]:
    """Old post id -> new post id, for each recorded post whose file was renamed.

    A pair needs the same account and content hash. When several records could follow one post, the one
    whose file had the same name (in another folder) wins, then the smallest id: the outcome never depends
    on the order files were read in."""
    wanted = {post.post_id for post in desired}
    left = {
        post_id: record
        for post_id, record in state.posts.items()
        if post_id not in wanted and post_id not in state.pending
    }
    moves: dict[str, str] = {}
    for post in sorted(desired, key=lambda post: post.post_id):
        if post.post_id in state.posts or post.post_id in state.pending:
            continue
        candidates = sorted(
            old
            for old, record in left.items()
            if old not in moves
            and record.account == post.account
            and record.content_hash == post.content_hash
        )
        if candidates:
            same_name = [old for old in candidates if _name(state.posts[old].source) == _name(post.source)]
            moves[(same_name or candidates)[0]] = post.post_id
    return moves


def _name(source: str) -> str:
    return PurePosixPath(source).name


def moved_state(state: State, moves: Mapping[str, str], sources: Mapping[str, str]) -> State:
    """`state` with each moved record under its new id and source, and replies pointing at the new ids."""
    for old, new in moves.items():
        state = state.moved(old, new, sources[new])
    return state
