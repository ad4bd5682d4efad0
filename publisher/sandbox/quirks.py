"""Switches that make the sandbox behave like other servers: older Mastodons, or ones broken in known ways."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace

from .render import StatusState

KNOWN_LANGUAGES = ("en", "de", "fr", "es", "ja")
FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class Quirks:
    keep_last_media_id: bool = False  # parses `media_ids[]` wrongly: only the last id is attached
    ignore_media_attributes: bool = False  # an edit's alt text and focus changes are dropped
    order_media_by_id: bool = False  # attachments in id order, not as sent (Mastodon before 3.5)
    replace_unknown_language: bool = False  # only KNOWN_LANGUAGES are kept; others become "en"
    ignore_quotes: bool = False  # Mastodon before 4.5: no quote posts (API version 6); the fields are dropped

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(field.name for field in fields(cls))

    @classmethod
    def named(cls, names: Iterable[str]) -> Quirks:
        """The quirks switched on by name; ValueError for a name that is not a quirk."""
        chosen = set(names)
        unknown = chosen - set(cls.names())
        if unknown:
            raise ValueError(f"unknown quirks: {', '.join(sorted(unknown))}")
        return cls(**dict.fromkeys(chosen, True))

    def active(self) -> tuple[str, ...]:
        return tuple(name for name in self.names() if getattr(self, name))

    @property
    def api_version(self) -> int | None:
        """What /api/v2/instance announces as api_versions.mastodon: 7 is Mastodon 4.5, with quote posts;
        None (not announced, as before Mastodon 4.3) for a server ordering attachments by id."""
        if self.order_media_by_id:
            return None
        return 6 if self.ignore_quotes else 7

    def received_media_ids(self, media_ids: tuple[str, ...]) -> tuple[str, ...]:
        """The ids the server reads from a create or edit."""
        return media_ids[-1:] if self.keep_last_media_id else media_ids

    def stored(self, state: StatusState) -> StatusState:
        """A new or edited status as this server keeps it."""
        media_ids = tuple(sorted(state.media_ids, key=int)) if self.order_media_by_id else state.media_ids
        language = state.language
        if self.replace_unknown_language and language not in KNOWN_LANGUAGES:
            language = FALLBACK_LANGUAGE
        if self.ignore_quotes:
            state = replace(state, quoted_status_id=None, quote_state=None, quote_policy=None)
        return replace(state, media_ids=media_ids, language=language)
