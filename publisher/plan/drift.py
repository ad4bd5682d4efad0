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
