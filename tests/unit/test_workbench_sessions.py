"""Workbench sessions: the stored row opens nothing without the browser's secret."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag

from services.workbench.domain import sessions

TOKEN = "lt_example-token-for-a-person"


def test_the_token_opens_only_with_the_secret_it_was_sealed_with() -> None:
    secret = sessions.new_secret()
    sealed = sessions.seal_token(secret, TOKEN)
    assert TOKEN.encode() not in sealed
    assert sessions.open_token(secret, sealed) == TOKEN
    with pytest.raises(InvalidTag):
        sessions.open_token(sessions.new_secret(), sealed)


def test_the_csrf_token_belongs_to_its_session() -> None:
    secret, other = sessions.new_secret(), sessions.new_secret()
    assert sessions.csrf_matches(secret, sessions.csrf_token(secret))
    assert not sessions.csrf_matches(secret, sessions.csrf_token(other))
    assert not sessions.csrf_matches(secret, None)
    assert sessions.session_hash(secret) != sessions.session_hash(other)


def test_a_session_ends_when_idle_too_long_or_past_its_absolute_end() -> None:
    now, lifetimes = datetime(2026, 1, 1, tzinfo=UTC), sessions.Lifetimes()
    assert sessions.alive(now, now - timedelta(minutes=29), now + timedelta(hours=1), lifetimes)
    assert not sessions.alive(now, now - timedelta(minutes=31), now + timedelta(hours=1), lifetimes)
    assert not sessions.alive(now, now, now, lifetimes)
