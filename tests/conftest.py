"""Shared fixtures: a fake Mastodon server on 127.0.0.1 that never reaches the internet."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from publisher.sandbox import FakeMastodon

FAKE_TOKEN = "test-token-SECRET-1234567890"


@pytest.fixture
def fake_server() -> Iterator[FakeMastodon]:
    server = FakeMastodon(token=FAKE_TOKEN)
    server.start()
    try:
        yield server
    finally:
        server.stop()
