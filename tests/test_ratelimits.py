"""Rate limits: request families, announced resets, and the tracker that paces requests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from publisher.mastodon.ratelimits import RateLimitTracker, UsedUp, rate_limit_family, reset_from_headers

START = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        # Mastodon's window ends on the second; the fraction is the request's own time of day.
        ({"x-ratelimit-reset": "2026-11-23T12:05:00.123456Z"}, START + timedelta(minutes=5)),
        ({"x-ratelimit-reset": "2026-11-23T12:05:00Z"}, START + timedelta(minutes=5)),
        ({"retry-after": "90"}, START + timedelta(seconds=90)),
        ({"retry-after": "Mon, 23 Nov 2026 12:10:00 GMT"}, START + timedelta(minutes=10)),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_reset_from_headers(headers, expected):
    assert reset_from_headers(headers, START) == expected


@pytest.mark.parametrize(
    ("method", "path", "family"),
    [
        ("POST", "/api/v2/media", "media"),
        ("POST", "/api/v1/media", "media"),
        ("GET", "/api/v1/media/5", "requests"),
        ("POST", "/api/v1/statuses", "statuses"),
        ("PUT", "/api/v1/statuses/9", "statuses"),
        ("DELETE", "/api/v1/statuses/9", "deletes"),
        ("GET", "/api/v1/statuses/9", "requests"),
    ],
)
def test_rate_limit_family(method, path, family):
    assert rate_limit_family(method, path) == family


# -- permanent failures are not retried --------------------------------------------------------------


def test_out_of_order_answers_of_one_window_never_raise_the_budget():
    tracker = RateLimitTracker()
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    # Mastodon's reset carries each request's own fraction of a second: same window, different stamps.
    tracker.remember(
        "media", {"x-ratelimit-remaining": "1", "x-ratelimit-reset": "2026-11-23T12:30:00.700000Z"}
    )
    tracker.remember(
        "media", {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2026-11-23T12:30:00.200000Z"}
    )
    assert tracker.reserve("media", now) is None  # the last slot
    assert tracker.reserve("media", now) == UsedUp("media", datetime(2026, 11, 23, 12, 30, tzinfo=UTC))


def test_requests_sent_as_a_window_ends_are_counted_in_the_next_one():
    tracker = RateLimitTracker()
    before_reset = datetime(2026, 11, 23, 12, 29, 59, tzinfo=UTC)
    tracker.remember(
        "media", {"x-ratelimit-remaining": "3", "x-ratelimit-reset": "2026-11-23T12:30:00.000000Z"}
    )
    for _ in range(3):  # three uploads take the old window's last slots, then it ends before they land
        assert tracker.reserve("media", before_reset) is None
    after_reset = datetime(2026, 11, 23, 12, 30, 1, tzinfo=UTC)
    assert tracker.reserve("media", after_reset) is None  # probes the new window
    # The probe lands first and the server counted only it; the other three may still land here.
    tracker.remember(
        "media", {"x-ratelimit-remaining": "29", "x-ratelimit-reset": "2026-11-23T13:00:00.000000Z"}
    )
    for _ in range(4):
        tracker.settle("media")
    tracker.remember(  # a late answer in the same window never raises the budget again
        "media", {"x-ratelimit-remaining": "28", "x-ratelimit-reset": "2026-11-23T13:00:00.000000Z"}
    )
    granted = [tracker.reserve("media", after_reset) for _ in range(27)]
    assert granted[:26] == [None] * 26 and granted[26] == UsedUp(
        "media", datetime(2026, 11, 23, 13, tzinfo=UTC)
    )


def test_late_answers_from_the_window_before_give_their_slot_back():
    tracker = RateLimitTracker()
    first_end, second_end = datetime(2026, 11, 23, 12, 30, tzinfo=UTC), datetime(2026, 11, 23, 13, tzinfo=UTC)
    tracker.remember("media", {"x-ratelimit-remaining": "4", "x-ratelimit-reset": "2026-11-23T12:30:00.5Z"})
    assert [tracker.reserve("media", first_end - timedelta(seconds=1)) for _ in range(4)] == [None] * 4
    assert tracker.reserve("media", first_end + timedelta(seconds=1)) is None  # the probe of the next window
    tracker.remember("media", {"x-ratelimit-remaining": "7", "x-ratelimit-reset": "2026-11-23T13:00:00.1Z"})
    tracker.settle("media")
    for left in range(3, -1, -1):  # the four earlier uploads were counted by the window they were sent in
        reset = "2026-11-23T12:30:00.9Z"
        tracker.remember("media", {"x-ratelimit-remaining": str(left), "x-ratelimit-reset": reset})
        tracker.settle("media")
    granted = [tracker.reserve("media", first_end + timedelta(seconds=2)) for _ in range(8)]
    assert granted == [None] * 7 + [UsedUp("media", second_end)]  # all 7 the server has left, no more
