"""Mastodon's id-based paging (max_id, since_id, min_id, limit) over a book of records."""

from __future__ import annotations

from dataclasses import dataclass

from .wire import RecordedRequest

DEFAULT_PAGE = 20
MAX_PAGE = 40


@dataclass(frozen=True)
class PageQuery:
    max_id: str | None = None
    since_id: str | None = None
    min_id: str | None = None
    limit: int = DEFAULT_PAGE

    @classmethod
    def of(cls, request: RecordedRequest) -> PageQuery:
        return cls(
            request.first("max_id"), request.first("since_id"), request.first("min_id"), _limit(request)
        )


def newest_first(records: dict[str, dict], query: PageQuery) -> list[dict]:
    """Newest first; min_id gives the records just above it, since_id the newest ones above it."""
    ids = sorted((int(i) for i in records), reverse=True)
    ids = [
        i
        for i in ids
        if (query.max_id is None or i < _int(query.max_id))
        and (query.since_id is None or i > _int(query.since_id))
    ]
    if query.min_id is not None:
        ids = [i for i in ids if i > _int(query.min_id)][-query.limit :]
    return [records[str(i)] for i in ids[: query.limit]]


def _limit(request: RecordedRequest) -> int:
    value = request.first("limit")
    try:
        return min(max(int(value), 1), MAX_PAGE) if value else DEFAULT_PAGE
    except ValueError:
        return DEFAULT_PAGE


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
