"""Shared fixtures: a fake Mastodon server on 127.0.0.1 that never reaches the internet."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from publisher.clock import FakeClock
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


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(clock) -> Iterator[FakeMastodon]:
    """A fake server on the test's clock, so rate-limit windows and scheduling follow FakeClock."""
    with FakeMastodon(token=FAKE_TOKEN, clock=clock) as fake:
        yield fake


@pytest.fixture(scope="module")
def stop_later():
    """Servers to stop at the end of the module, all at once."""
    servers: list[FakeMastodon] = []
    yield servers.append
    stoppers = [threading.Thread(target=server.stop) for server in servers]
    for thread in stoppers:
        thread.start()
    for thread in stoppers:
        thread.join()
