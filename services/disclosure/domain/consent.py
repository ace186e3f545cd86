"""Which consent stands, from every version intake recorded (policy v2, issue 13 item 5).

- What the caller said with the tip (version 1, the reporter's own or as the specialist recorded it
  during the call) counts.
- A narrowing or a withdrawal always applies, whatever its version and whenever it arrives.
- A later widening (police, share identity) counts when the reporter gave it, or a supervisor
  recorded or confirmed it; a specialist's or an administrator's alone waits for a supervisor.
- A version that does not follow the one before it (a gap, a jump, a replay of another content)
  applies only as far as it narrows, and puts the case on hold for review: an older consent never
  stands in for a newer one.

Versions are read in order, so the same set of records gives the same answer in any arrival order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from schemas.tip import Consent

SCOPES = tuple(Consent.model_fields)
MAY_WIDEN = frozenset({"reporter", "supervisor"})


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One version of a tip's consent as intake published it."""

    version: int
    consent: Consent
    recorded_by_role: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StandingConsent:
    consent: Consent
    version: int
    awaiting_supervisor: tuple[int, ...] = ()
    """Versions whose widening waits for a supervisor's confirmation."""
    irregular: tuple[str, ...] = ()
    """Why the record needs a supervisor's look: codes such as ``consent.version_gap.3``."""

    @property
    def needs_review(self) -> tuple[str, ...]:
        return self.irregular + tuple(
            f"consent.widening_awaits_supervisor.{v}" for v in self.awaiting_supervisor
        )


def narrowed(current: Consent, recorded: Consent) -> Consent:
    """Every scope that both allow."""
    return Consent(**{scope: getattr(current, scope) and getattr(recorded, scope) for scope in SCOPES})


def widens(current: Consent, recorded: Consent) -> bool:
    return any(getattr(recorded, scope) and not getattr(current, scope) for scope in SCOPES)


def standing(
    with_tip: Consent, records: Iterable[ConsentRecord], confirmed: frozenset[int] = frozenset()
) -> StandingConsent:
    """The consent that stands on the tip's consent and every later record, with what needs review."""
    current, last = with_tip, 1
    awaiting: list[int] = []
    irregular: list[str] = []
    seen: dict[int, Consent] = {1: with_tip}
    for record in sorted(records, key=lambda record: record.version):
        if record.version in seen:
            if record.consent != seen[record.version]:
                irregular.append(f"consent.version_replayed.{record.version}")
                current = narrowed(current, record.consent)
            continue
        seen[record.version] = record.consent
        follows = record.version == last + 1
        last = record.version
        if not follows:
            irregular.append(f"consent.version_gap.{record.version}")
            current = narrowed(current, record.consent)
        elif widens(current, record.consent) and not (
            record.recorded_by_role in MAY_WIDEN or record.version in confirmed
        ):
            awaiting.append(record.version)
            current = narrowed(current, record.consent)
        else:
            current = record.consent
    return StandingConsent(current, last, tuple(awaiting), tuple(irregular))
