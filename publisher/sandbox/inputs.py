"""Reading status parameters the way Rails does, from form fields (Rails-style keys) or a JSON body."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import to_bool
from .wire import RecordedRequest

_INDEXED_ATTRIBUTE = re.compile(r"^media_attributes\[(\d*)\]\[(\w+)\]$")


@dataclass(frozen=True)
class PollInput:
    options: tuple[str, ...]
    expires_in: int | None
    multiple: bool = False
    hide_totals: bool = False


@dataclass(frozen=True)
class MediaAttribute:
    id: str
    description: str | None = None
    focus: str | None = None


@dataclass(frozen=True)
class StatusInput:
    text: str = ""
    media_ids: tuple[str, ...] = ()
    spoiler_text: str = ""
    visibility: str | None = None
    sensitive: bool = False
    language: str | None = None
    in_reply_to_id: str | None = None
    scheduled_at: str | None = None
    poll: PollInput | None = None
    media_attributes: tuple[MediaAttribute, ...] = ()
    quoted_status_id: str | None = None
    quote_approval_policy: str | None = None


def status_input(request: RecordedRequest) -> StatusInput:
    if isinstance(request.json, dict):
        return _from_json(request.json)
    return _from_form(request)


def field_values(request: RecordedRequest) -> dict[str, object]:
    """Scalar fields of a JSON body, or the first value of each form and query field."""
    if isinstance(request.json, dict):
        return dict(request.json)
    merged = {**request.query, **request.form}
    return {name: values[0] for name, values in merged.items() if values}


def text_field(request: RecordedRequest, name: str) -> str | None:
    """One field of a JSON body or a form (or the query string), as text; None when it is absent."""
    value = field_values(request).get(name)
    return None if value is None else str(value)


def _text(value: object) -> str | None:
    """An optional string field: absent, null and blank all mean "not given"."""
    if value is None:
        return None
    text = str(value)
    return text if text.strip() else None


def _ids(values: object) -> tuple[str, ...]:
    if values is None or values == "":
        return ()
    if not isinstance(values, list | tuple):
        values = [values]
    return tuple(str(value) for value in values if str(value) != "")


def _from_json(body: dict) -> StatusInput:
    return StatusInput(
        text=str(body.get("status") or ""),
        media_ids=_ids(body.get("media_ids")),
        spoiler_text=str(body.get("spoiler_text") or ""),
        visibility=_text(body.get("visibility")),
        sensitive=to_bool(body.get("sensitive")),
        language=_text(body.get("language")),
        in_reply_to_id=_text(body.get("in_reply_to_id")),
        scheduled_at=_text(body.get("scheduled_at")),
        poll=_json_poll(body.get("poll")),
        media_attributes=_json_attributes(body.get("media_attributes")),
        quoted_status_id=_text(body.get("quoted_status_id")),
        quote_approval_policy=_text(body.get("quote_approval_policy")),
    )


def _json_poll(poll: object) -> PollInput | None:
    if not isinstance(poll, dict):
        return None
    return PollInput(
        options=tuple(str(option) for option in poll.get("options") or ()),
        expires_in=_int(poll.get("expires_in")),
        multiple=to_bool(poll.get("multiple")),
        hide_totals=to_bool(poll.get("hide_totals")),
    )


def _json_attributes(attributes: object) -> tuple[MediaAttribute, ...]:
    if isinstance(attributes, dict):  # Rails also accepts {"0": {...}, "1": {...}}
        attributes = list(attributes.values())
    if not isinstance(attributes, list):
        return ()
    return tuple(_attribute(item) for item in attributes if isinstance(item, dict) and item.get("id"))


def _attribute(fields: dict) -> MediaAttribute:
    focus = fields.get("focus")
    if isinstance(focus, dict):
        focus = f"{focus.get('x', 0)},{focus.get('y', 0)}"
    return MediaAttribute(str(fields["id"]), _optional(fields.get("description")), _optional(focus))


def _optional(value: object) -> str | None:
    return None if value is None else str(value)


def _from_form(request: RecordedRequest) -> StatusInput:
    def first(name: str) -> str | None:
        return request.first(name)

    return StatusInput(
        text=first("status") or "",
        media_ids=_ids(request.form.get("media_ids[]") or request.query.get("media_ids[]")),
        spoiler_text=first("spoiler_text") or "",
        visibility=_text(first("visibility")),
        sensitive=to_bool(first("sensitive")),
        language=_text(first("language")),
        in_reply_to_id=_text(first("in_reply_to_id")),
        scheduled_at=_text(first("scheduled_at")),
        poll=_form_poll(request),
        media_attributes=_form_attributes(request.form_pairs),
        quoted_status_id=_text(first("quoted_status_id")),
        quote_approval_policy=_text(first("quote_approval_policy")),
    )


def _form_poll(request: RecordedRequest) -> PollInput | None:
    if not any(name.startswith("poll[") for name in request.form):
        return None
    return PollInput(
        options=tuple(request.form.get("poll[options][]", ())),
        expires_in=_int(request.first("poll[expires_in]")),
        multiple=to_bool(request.first("poll[multiple]")),
        hide_totals=to_bool(request.first("poll[hide_totals]")),
    )


def _form_attributes(pairs: tuple[tuple[str, str], ...]) -> tuple[MediaAttribute, ...]:
    """Rails starts a new hash in `a[][k]` when k repeats; `a[0][k]` groups by index."""
    groups: list[dict[str, str]] = []
    by_index: dict[str, dict[str, str]] = {}
    for name, value in pairs:
        match = _INDEXED_ATTRIBUTE.match(name)
        if not match:
            continue
        index, key = match.groups()
        if index:
            group = by_index.setdefault(index, {})
            if not group:
                groups.append(group)
        elif not groups or key in groups[-1]:
            groups.append({})
        (group if index else groups[-1])[key] = value
    return tuple(_attribute(group) for group in groups if group.get("id"))


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
