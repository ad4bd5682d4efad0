"""A seeded random campaign of faults and crashes: duplicates, lost posts and bad state must all be zero.

Run alone with `pytest -m campaign -s` (CAMPAIGN_RUNS=1000 for a longer one); it prints its totals.
"""

from __future__ import annotations

import os
import random
from collections import Counter

import pytest
import requests

from publisher import app
from publisher.clock import FakeClock
from publisher.errors import PublishError
from publisher.mastodon.client import MastodonClient
from publisher.mastodon.http import HttpClient
from publisher.mastodon.retry import RetryPolicy
from publisher.plan.safety import SyncOptions
from publisher.sandbox import FakeMastodon, Fault
from tests.exactly_once import check_exactly_once
from tests.sync_support import ENV, TOKEN, example_repo

RUNS = int(os.environ.get("CAMPAIGN_RUNS", "200"))
SEED = 20261123
FAULT_MENU = [
    ("POST", "/api/v1/statuses", "drop_after", 503),
    ("POST", "/api/v1/statuses", "drop_before", 503),
    ("POST", "/api/v1/statuses", "status", 500),
    ("POST", "/api/v1/statuses", "html", 502),
    ("POST", "/api/v1/statuses", "status", 503),
    ("POST", "/api/v1/statuses", "html", 504),
    ("POST", "/api/v1/statuses", "status", 429),
    ("POST", "/api/v2/media", "drop_after", 503),
    ("POST", "/api/v2/media", "status", 502),
    ("POST", "/api/v2/media", "html", 413),
    ("GET", "/api/v1/media/", "status", 503),
    ("GET", "/api/v1/accounts/", "status", 503),
    ("GET", "/api/v1/statuses/", "drop_before", 503),
]


class SimulatedCrash(BaseException):
    """The process dies: nothing after this point runs (BaseException, like SystemExit)."""


class CrashingSession(requests.Session):
    def __init__(self, crash_at: int | None, before: bool):
        super().__init__()
        self.sent = 0
        self.crash_at = crash_at
        self.before = before

    def send(self, request, **kwargs):
        self.sent += 1
        if self.sent == self.crash_at and self.before:
            raise SimulatedCrash
        response = super().send(request, **kwargs)
        if self.sent == self.crash_at:
            response.close()  # streamed: the dead process's socket would otherwise linger until collected
            raise SimulatedCrash
        return response


def one_run(tmp_path, rng: random.Random, tally: Counter) -> dict[str, int]:
    clock = FakeClock()
    honour = rng.random() < 0.5
    with FakeMastodon(
        token=TOKEN, clock=clock, honour_idempotency=honour, media_processing_polls=rng.choice([0, 1, 2])
    ) as server:
        config = example_repo(tmp_path, server.url, schedule=rng.choice(["native", "ci"]))
        for method, path, kind, status in rng.sample(FAULT_MENU, rng.randint(0, 3)):
            server.add_fault(
                Fault(method, path, kind, status=status, times=rng.randint(1, 3), message="injected")
            )
            tally["faults"] += 1
        crash_at = rng.choice([None, rng.randint(1, 25)])
        tally["crash points"] += crash_at is not None
        for attempt in range(6):
            if attempt == 2:
                server.clear_faults()
            if attempt_sync(config, clock, crash_at if attempt == 0 else None, rng.random() < 0.5, tally):
                break
            clock.advance(rng.choice([5, 600, 7200]))
        tally["runs"] += 1
        return check_exactly_once(server, config, expected_texts(config, clock))


def attempt_sync(config, clock, crash_at, before, tally) -> bool:
    def factory(name, account, token):
        session = CrashingSession(crash_at, before)
        http = HttpClient(
            account.instance,
            token,
            clock=clock,
            timeout=1.0,
            session=session,
            retry=RetryPolicy(max_attempts=3, max_total_seconds=120),
        )
        return MastodonClient(http, clock, uncertain_retries=3)

    try:
        app.sync(
            config, clock=clock, environ=ENV, client_factory=factory, options=SyncOptions(lock_timeout=1)
        )
        return True
    except SimulatedCrash:
        tally["crashes"] += 1
    except PublishError:
        tally["failed runs"] += 1
    return False


def expected_texts(config, clock) -> list[str]:
    """Every post the plan publishes or schedules (in "ci" mode a future post is rightly not there yet)."""
    result = app.make_plan(config, clock=clock)
    return [change.desired.text for change in result.plan.changes if change.kind.value != "deferred"]


@pytest.mark.campaign
def test_random_fault_campaign_never_duplicates_loses_or_corrupts(tmp_path, capsys):
    tally: Counter = Counter()
    totals: Counter = Counter()
    bad_runs = []
    for run in campaign_runs():
        outcome = one_run(tmp_path / str(run), random.Random(SEED + run), tally)
        totals.update(outcome)
        if any(outcome.values()):
            bad_runs.append(run)
    with capsys.disabled():
        print(f"\ncampaign: {dict(tally)} -> {dict(totals) or 'all zero'}")
    assert tally["runs"] == len(campaign_runs())
    assert bad_runs == [], f"{dict(totals)}; replay one with CAMPAIGN_ONLY=<run>"


def campaign_runs() -> list[int]:
    """Each run has its own seed, so CAMPAIGN_ONLY=17 replays run 17 alone."""
    only = os.environ.get("CAMPAIGN_ONLY")
    return [int(only)] if only else list(range(RUNS))
