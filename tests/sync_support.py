"""Builders for sync tests: a repo pointed at a fake server, clients on an injected clock."""

from __future__ import annotations

import json
from pathlib import Path

from publisher import app
from publisher.clock import FakeClock
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.http import HttpClient
from publisher.mastodon.retry import RetryPolicy
from publisher.plan.safety import SyncOptions
from tests.helpers import copy_example_repo

TOKEN = "test-token-SECRET-1234567890"
ENV = {"MASTODON_TOKEN": TOKEN, "PUBLISH_TEST_TOKEN": TOKEN}


def example_repo(root: Path, server_url: str, *, schedule: str = "native") -> Path:
    config = copy_example_repo(root)
    text = config.read_text().replace("https://mastodon.example", server_url)
    config.write_text(text.replace('schedule = "native"', f'schedule = "{schedule}"'))
    return config


def client_factory(clock: FakeClock, *, timeout: float = 2.0, attempts: int = 6):
    def factory(name, account, token):
        http = HttpClient(
            account.instance, token, clock=clock, timeout=timeout, retry=RetryPolicy(max_attempts=attempts)
        )
        return MastodonClient(http, clock)

    return factory


def run_sync(config: Path, clock: FakeClock, *, env=ENV, events=None, **options):
    return app.sync(
        config,
        clock=clock,
        environ=env,
        client_factory=client_factory(clock),
        options=SyncOptions(**options),
        on_event=(events.append if events is not None else lambda event: None),
    )


def read_state(config: Path) -> dict:
    path = config.parent / "publish.state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def texts(server) -> list[str]:
    return [status["text"] for status in server.statuses.values()]
