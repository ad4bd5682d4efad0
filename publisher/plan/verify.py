"""What the server stored, compared with what publish sent: the fields a create or an edit did not set.

Pure: it reads the JSON body that was sent and the server's answer (a Status or a ScheduledStatus), and never
raises on an answer of an odd shape. A key the answer lacks is not compared (the server did not say what it
stored); null is compared as "nothing"; a value of the wrong type is a mismatch. The quote and the quote
policy are the exception: a server without quote posts (before Mastodon 4.5) leaves their keys out, and that
is just what must not pass unnoticed, so a missing key there is "nothing"."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from publisher.source.untrusted import escape_controls

SHOWN_LIMIT = 60
FOCUS_TOLERANCE = 0.01
CENTRE = (0.0, 0.0)
NOTHING = "nothing"


@dataclass(frozen=True)
class Mismatch:
    """One field the server stored otherwise; `sent` and `stored` are shown values (text in quotes)."""

    field: str
    sent: str
    stored: str

    def describe(self) -> str:
        return f"{self.field}: sent {self.sent}, the server stored {self.stored}"


def stored_differences(sent: dict, answer: dict) -> list[Mismatch]:
    """Where `answer` does not hold what `sent` asked for; a field sent as null or not at all is not compared.

    `media_attributes` in `sent` give each attachment's whole alt text and focus: a missing key means none."""
    sent = sent if isinstance(sent, dict) else {}
    answer = answer if isinstance(answer, dict) else {}
    params = answer.get("params")
    stored = params if isinstance(params, dict) else answer  # a ScheduledStatus keeps them in `params`
    found = [*_spoiler(sent, stored), *_visibility(sent, stored), *_sensitive(sent, stored)]
    found += [*_language(sent, stored), *_poll(sent, stored)]
    found += [*_quote(sent, stored), *_quote_policy(sent, stored), *_pinned(sent, stored)]
    if "media_attachments" in answer:
        media = [item for item in _list(answer["media_attachments"]) if isinstance(item, dict)]
        found += [*_media_count(sent, media), *_media_order(sent, media), *_media_attributes(sent, media)]
    return found


def _compared(sent: dict, stored: dict, key: str) -> bool:
    return sent.get(key) is not None and key in stored


# -- status fields -------------------------------------------------------------------------------------


def _spoiler(sent: dict, stored: dict) -> list[Mismatch]:
    if not _compared(sent, stored, "spoiler_text"):
        return []
    return _unless_equal("spoiler_text", _text(sent["spoiler_text"]), _text(stored["spoiler_text"]))


def _visibility(sent: dict, stored: dict) -> list[Mismatch]:
    if not _compared(sent, stored, "visibility"):
        return []
    return _unless_equal("visibility", sent["visibility"], stored["visibility"])


def _sensitive(sent: dict, stored: dict) -> list[Mismatch]:
    """Mastodon marks a status with a content warning sensitive (but keeps a scheduled one's as sent)."""
    if not _compared(sent, stored, "sensitive"):
        return []
    asked = _flag(sent["sensitive"])
    spoiler = sent.get("spoiler_text")
    warned = isinstance(spoiler, str) and bool(spoiler.strip())
    if _flag(stored["sensitive"]) in (asked, asked or warned):
        return []
    return [Mismatch("sensitive", _shown(asked), _shown(stored["sensitive"]))]


def _language(sent: dict, stored: dict) -> list[Mismatch]:
    if not _compared(sent, stored, "language") or _folded(sent["language"]) == _folded(stored["language"]):
        return []
    return [Mismatch("language", _shown(sent["language"]), _shown(stored["language"]))]


def _poll(sent: dict, stored: dict) -> list[Mismatch]:
    if not _compared(sent, stored, "poll"):
        return []
    asked, kept = _poll_shape(sent["poll"]), _poll_shape(stored["poll"])
    return [] if asked == kept else [Mismatch("poll", _shown_poll(asked), _shown_poll(kept))]


def _poll_shape(poll: object) -> tuple[tuple[str, ...], bool] | None:
    """(option titles, multiple); a Status has options as {"title": ...}, a ScheduledStatus as text."""
    if not isinstance(poll, dict):
        return None
    options = (
        option.get("title") if isinstance(option, dict) else option for option in _list(poll.get("options"))
    )
    return tuple(_as_text(title) for title in options), _flag(poll.get("multiple"))


def _shown_poll(shape: tuple[tuple[str, ...], bool] | None) -> str:
    if shape is None:
        return NOTHING
    options, multiple = shape
    shown = ", ".join(_shown(option) for option in options) or "no options"
    return _short(shown + (" (multiple choice)" if multiple else ""))


# -- quote, quote policy and pin -----------------------------------------------------------------------


def _quote(sent: dict, stored: dict) -> list[Mismatch]:
    """A quote of another server's status waits for that server's approval: until then no id to compare."""
    asked = sent.get("quoted_status_id")
    if asked is None or quote_pending(stored):
        return []
    kept = stored_quote_id(stored)
    return [] if kept == _as_text(asked) else [Mismatch("quote", f"status {_shown(asked)}", _status(kept))]


def _status(status_id: str | None) -> str:
    return NOTHING if status_id is None else f"status {_shown(status_id)}"


def _quote_policy(sent: dict, stored: dict) -> list[Mismatch]:
    asked = sent.get("quote_approval_policy")
    if asked is None:
        return []
    return _unless_equal("quote policy", asked, stored_quote_policy(stored))


def _pinned(sent: dict, stored: dict) -> list[Mismatch]:
    """Mastodon says `pinned` of its own account's statuses only: absent, it is not compared."""
    if not _compared(sent, stored, "pinned"):
        return []
    return _unless_equal("pinned", _flag(sent["pinned"]), _flag(stored["pinned"]))


def quote_pending(stored: dict) -> bool:
    """The quote of another server's status waits for that server's approval (it names no status yet)."""
    quote = stored.get("quote")
    return isinstance(quote, dict) and quote.get("state") == "pending"


def stored_quote_id(stored: dict) -> str | None:
    """The id of the status an answer quotes: a Status's `quote` (its quoted_status, or a shallow quote's
    quoted_status_id), or what a ScheduledStatus's params keep; None when it quotes nothing (it says)."""
    quote = stored.get("quote")
    if isinstance(quote, dict):
        quoted = quote.get("quoted_status")
        found = quoted.get("id") if isinstance(quoted, dict) else quote.get("quoted_status_id")
    else:
        found = stored.get("quoted_status_id")
    return None if found is None or isinstance(found, dict | list) else _as_text(found)


def stored_quote_policy(stored: dict) -> str | None:
    """public, followers or nobody: from a Status's quote_approval (who may quote it and be accepted at once;
    nobody when no one), or as a ScheduledStatus's params keep it; None when the answer does not say."""
    approval = stored.get("quote_approval")
    if not isinstance(approval, dict):
        policy = stored.get("quote_approval_policy")
        return policy if isinstance(policy, str) else None
    automatic = [_as_text(item) for item in _list(approval.get("automatic"))]
    manual = [_as_text(item) for item in _list(approval.get("manual"))]
    for policy in ("public", "followers"):
        if policy in automatic:
            return policy
    return "nobody" if not automatic and not manual else ", ".join(automatic + manual)


# -- media ---------------------------------------------------------------------------------------------


def _media_count(sent: dict, media: list[dict]) -> list[Mismatch]:
    if "media_ids" not in sent or len(_ids(sent["media_ids"])) == len(media):
        return []
    return [Mismatch("media count", str(len(_ids(sent["media_ids"]))), str(len(media)))]


def _media_order(sent: dict, media: list[dict]) -> list[Mismatch]:
    """Shown as places, not ids: "2, 1" says more than two 18-digit ids cut at 60 characters."""
    sent_ids, stored_ids = _ids(sent.get("media_ids")), [_as_text(item.get("id")) for item in media]
    if sorted(sent_ids) != sorted(stored_ids) or sent_ids == stored_ids:
        return []
    sent_order = ", ".join(str(place) for place in range(1, len(sent_ids) + 1))
    stored_order = ", ".join(str(sent_ids.index(media_id) + 1) for media_id in stored_ids)
    return [Mismatch("media order", _short(sent_order), _short(stored_order))]


def _media_attributes(sent: dict, media: list[dict]) -> list[Mismatch]:
    """Alt text and focus of each attachment, matched by id and named by its place in `media_ids`."""
    by_id = {_as_text(item.get("id")): item for item in media}
    order = _ids(sent.get("media_ids"))
    attributes = [item for item in _list(sent.get("media_attributes")) if isinstance(item, dict)]
    found: list[Mismatch] = []
    for index, attribute in enumerate(attributes, 1):
        media_id = _as_text(attribute.get("id"))
        stored = by_id.get(media_id)
        if stored is not None:
            number = order.index(media_id) + 1 if media_id in order else index
            found += _alt_text(number, attribute, stored) + _focus(number, attribute, stored)
    return found


def _alt_text(number: int, attribute: dict, stored: dict) -> list[Mismatch]:
    if "description" not in stored:
        return []
    field = f"alt text of media {number}"
    return _unless_equal(field, _text(attribute.get("description")), _text(stored["description"]))


def _focus(number: int, attribute: dict, stored: dict) -> list[Mismatch]:
    """No focus is the centre; within FOCUS_TOLERANCE is the same point (servers round)."""
    meta = stored.get("meta")
    asked = _point(attribute.get("focus"))
    kept = _point(meta.get("focus") if isinstance(meta, dict) else None)
    (x1, y1), (x2, y2) = asked or CENTRE, kept or CENTRE
    if abs(x1 - x2) <= FOCUS_TOLERANCE and abs(y1 - y2) <= FOCUS_TOLERANCE:
        return []
    return [Mismatch(f"focus of media {number}", _shown_point(asked), _shown_point(kept))]


def _point(focus: object) -> tuple[float, float] | None:
    """A focus sent as "x,y" or {"x": .., "y": ..}, or stored as the latter; None when absent or odd."""
    if isinstance(focus, str):
        parts = focus.split(",")
        return (_number(parts[0]), _number(parts[1])) if len(parts) == 2 else None
    if isinstance(focus, dict):
        return _number(focus.get("x")), _number(focus.get("y"))
    return None


def _number(value: object) -> float:
    try:
        return float(value) if isinstance(value, str | int | float) else 0.0
    except (ValueError, OverflowError):
        return 0.0


def _shown_point(point: tuple[float, float] | None) -> str:
    return NOTHING if point is None else _short(f"{point[0]:g},{point[1]:g}")


# -- values --------------------------------------------------------------------------------------------


def _unless_equal(field: str, sent: object, stored: object) -> list[Mismatch]:
    return [] if sent == stored else [Mismatch(field, _shown(sent), _shown(stored))]


def _text(value: object) -> object:
    """Text with null read as "" (Mastodon sends either for "none"); any other type as it is, unequal."""
    return "" if value is None else value


def _flag(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1"))


def _folded(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _ids(value: object) -> list[str]:
    if isinstance(value, str | int):
        return [_as_text(value)]
    return [_as_text(item) for item in value] if isinstance(value, list | tuple) else []


def _shown(value: object) -> str:
    """A value as a terminal may show it: text quoted, controls escaped, at most SHOWN_LIMIT long."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{_short(escape_controls(value), SHOWN_LIMIT - 2)}"'
    return _short(escape_controls(_compact(value)))


def _compact(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except ValueError:  # an int too long to write (Python's limit), or a circular structure
        return f"a {type(value).__name__}"


def _as_text(value: object) -> str:
    try:
        return str(value)
    except ValueError:  # an int too long to write
        return "?"


def _short(text: str, limit: int = SHOWN_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
