"""What `--refresh` sees on the server of the recorded statuses: deleted there, or edited there.

The plan takes a ServerView as input and stays a pure function; publisher.mastodon.refresh reads it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class ServerEdit:
    """A status edited on the server after publish last wrote it."""

    text: str  # its source text now
    edited_at: datetime


@dataclass(frozen=True)
class ServerView:
    """The input the plan takes from a refresh: post ids gone from the server, and those edited there."""

    gone: frozenset[str] = frozenset()
    edited: Mapping[str, ServerEdit] = field(default_factory=dict)

    def renamed(self, moves: Mapping[str, str]) -> ServerView:
        """The view under the posts' ids after their files were renamed (`moves`: old id -> new id)."""
        gone = frozenset(moves.get(post_id, post_id) for post_id in self.gone)
        return ServerView(gone, {moves.get(post_id, post_id): edit for post_id, edit in self.edited.items()})
