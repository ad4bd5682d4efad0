"""A bare HTML page for a status's `url`, so a sandbox post can be looked at in a browser."""

from __future__ import annotations

import html


def status_page(status: dict) -> str:
    account = status["account"]
    warning = (
        f"<p><strong>CW: {html.escape(status['spoiler_text'])}</strong></p>" if status["spoiler_text"] else ""
    )
    media = "".join(_attachment(item) for item in status["media_attachments"])
    acct = html.escape(account["acct"])
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>@{acct}</title></head>'
        f"<body><article><header>@{acct} · {status['created_at']} · {status['visibility']}"
        f'</header>{warning}<div class="content">{status["content"]}</div>{media}</article></body></html>'
    )


def _attachment(item: dict) -> str:
    url = html.escape(item["url"] or "")
    alt = html.escape(item["description"] or "")
    if item["type"] == "image":
        return f'<figure><img src="{url}" alt="{alt}" style="max-width:100%"></figure>'
    if item["type"] in ("video", "gifv"):
        return f'<figure><video src="{url}" controls loop title="{alt}"></video></figure>'
    if item["type"] == "audio":
        return f'<figure><audio src="{url}" controls title="{alt}"></audio></figure>'
    return f'<p><a href="{url}">{alt or url}</a></p>'
