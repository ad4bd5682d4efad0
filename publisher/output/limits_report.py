"""Where the limits came from, as one line per account, and the `publish limits` report (text or JSON)."""

from __future__ import annotations

from datetime import datetime, timedelta

from publisher.clock import iso_utc
from publisher.output.document import JSON_VERSION, json_document
from publisher.source.limits import MAX_AGE, AccountLimits, EffectiveLimits, is_placeholder

REFRESH_HINT = "`publish plan` or `publish limits --refresh` reads them"


def human_age(age: timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 48 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


def source_text(entry: AccountLimits, now: datetime) -> str:
    """'mastodon.example (cached 2 h ago)' or 'Mastodon defaults (no instance data cached; ...)'."""
    if entry.announced_at is None and is_placeholder(entry.instance):
        where = "set the account's `instance` in publish.toml"
        text = f"Mastodon defaults ({entry.host} is a placeholder: {where})"
    elif entry.announced_at is None:
        text = f"Mastodon defaults (no instance data cached for {entry.host}; {REFRESH_HINT})"
    else:
        age = now - entry.announced_at
        stale = "; stale, run `publish limits --refresh`" if age > MAX_AGE else ""
        text = f"{entry.host} (cached {human_age(age)}{stale})"
    if entry.overrides:
        text += "; publish.toml [limits] sets " + ", ".join(entry.overrides)
    return text


def limits_note(effective: EffectiveLimits, now: datetime) -> str:
    """One `limits: ...` line per account (named when there are several)."""
    named = len(effective.accounts) > 1
    lines = []
    for entry in effective.accounts:
        label = f"limits ({entry.account})" if named else "limits"
        lines.append(f"{label}: {source_text(entry, now)}")
    return "\n".join(lines)


def limits_text(effective: EffectiveLimits, now: datetime) -> str:
    blocks = []
    for entry in effective.accounts:
        lines = [f"account {entry.account}: {source_text(entry, now)}"]
        for name, value in entry.limits.model_dump().items():
            shown = ", ".join(value) if isinstance(value, tuple) else f"{value:,}"
            lines.append(f"  {name:<32} {shown}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def limits_json(effective: EffectiveLimits, now: datetime) -> str:
    accounts = [_account_dict(entry, now) for entry in effective.accounts]
    return json_document({"version": JSON_VERSION, "accounts": accounts})


def _account_dict(entry: AccountLimits, now: datetime) -> dict:
    fetched = entry.announced_at
    return {
        "account": entry.account,
        "instance": entry.instance,
        "source": "instance" if fetched else "defaults",
        "fetched_at": iso_utc(fetched) if fetched else None,
        "stale": bool(fetched and now - fetched > MAX_AGE),
        "overrides": list(entry.overrides),
        "limits": entry.limits.model_dump(mode="json"),
        "summary": source_text(entry, now),
    }
