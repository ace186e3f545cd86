"""A burst of providers' requests to hide an address or leave the public directory: counted within a
window, a burst from the threshold, counts only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.referral.domain.provider_requests import recent_restrictions

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_requests_reaching_the_threshold_within_the_window_are_a_burst() -> None:
    received = [(NOW - timedelta(minutes=m), "corath") for m in (1, 20, 59)]
    recent = recent_restrictions(received, NOW, HOUR, threshold=3)
    assert (recent.requests, recent.organizations, recent.burst) == (3, 1, True)


def test_one_request_fewer_than_the_threshold_is_not_a_burst() -> None:
    received = [(NOW - timedelta(minutes=1), "corath"), (NOW - timedelta(minutes=2), "refuge")]
    recent = recent_restrictions(received, NOW, HOUR, threshold=3)
    assert (recent.requests, recent.organizations, recent.burst) == (2, 2, False)


def test_requests_older_than_the_window_or_after_now_are_not_counted() -> None:
    received = [
        (NOW - HOUR, "corath"),  # exactly the window's length ago: out
        (NOW - HOUR - timedelta(seconds=1), "corath"),
        (NOW + timedelta(seconds=1), "corath"),
        (NOW - timedelta(minutes=5), None),
    ]
    recent = recent_restrictions(received, NOW, HOUR, threshold=2)
    assert (recent.requests, recent.organizations, recent.burst) == (1, 0, False)
