"""The naive baseline: one request at a time (upload, upload, upload, upload, post, next), nothing else.

Usage: python bench/baseline.py SERVER_URL MANIFEST_JSON (the token in $PUBLISH_BENCH_TOKEN).
No state file, no retries, no validation: the least a sequential publisher can do.
"""

from __future__ import annotations

import json
import os
import sys

import requests

TOKEN_ENV = "PUBLISH_BENCH_TOKEN"
TIMEOUT = 30


def upload(session: requests.Session, url: str, path: str, mime_type: str, alt: str) -> str:
    with open(path, "rb") as handle:
        files = {"file": (os.path.basename(path), handle, mime_type)}
        response = session.post(
            f"{url}/api/v2/media", files=files, data={"description": alt}, timeout=TIMEOUT
        )
    response.raise_for_status()
    return response.json()["id"]


def post(session: requests.Session, url: str, text: str, media_ids: list[str], key: str) -> None:
    body = {"status": text, "media_ids": media_ids, "visibility": "public", "language": "en"}
    response = session.post(
        f"{url}/api/v1/statuses", json=body, headers={"Idempotency-Key": key}, timeout=TIMEOUT
    )
    response.raise_for_status()


def main(url: str, manifest: str) -> None:
    with open(manifest, encoding="utf-8") as handle:
        posts = json.load(handle)
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {os.environ[TOKEN_ENV]}"
        for entry in posts:
            media_ids = [upload(session, url, *media) for media in entry["media"]]
            post(session, url, entry["status"], media_ids, entry["key"])


if __name__ == "__main__":
    main(*sys.argv[1:3])
