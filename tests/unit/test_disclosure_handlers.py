"""Disclosure's use cases in memory: events in through the service's own wiring, packages and events
out through the outbox, with real sealing, the audit and transactions that roll back on failure.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas import topics
from schemas.disclosure import (
    Basis,
    CaseState,
    Decision,
    DisclosureCancelledV1,
    DisclosureDecidedV1,
    DisclosureForwardedV1,
    DisclosureReviewFlaggedV1,
    LawEnforcementPackageV2,
    LawEnforcementPackageV3,
    LegalReference,
    LiaisonAcknowledgementV2,
    ReviewQueue,
)
from schemas.envelope import Contract, EventBase
from schemas.intake import TipReceivedV1, TipSupplementedV1
from schemas.tip import Channel, Contact, Location
from schemas.triage import Urgency
from services.common.agency_keys import (
    AgencyKeys,
    PackageUnreadable,
    RegisteredAgencyKey,
    open_package,
    sign_acknowledgement,
)
from services.common.consumer import Deferred, Rejected, Unauthenticated
from services.common.sealing import DataKey, KeyEncryptionKey, Keystore
from services.disclosure import handlers
from services.disclosure.adapters.memory import MemoryTransactions, Unseal
from services.disclosure.domain.case import (
    CaseNotPending,
    SameSupervisor,
    Supervisor,
    UnknownPackage,
    Verdict,
)
from services.disclosure.domain.packages import MAX_PACKAGE_BYTES
from services.disclosure.domain.routing import load_routing
from services.disclosure.entrypoints.kafka import wire
from services.disclosure.settings import DisclosureSettings
from tests.factories import (
    CONTACT,
    IDENTIFYING_VALUES,
    NAMED_PERSON,
    NARRATIVE,
    SPECIALIST,
    consent_recorded,
    tip_received,
    tip_supplemented,
    tip_triaged,
)
from tests.unit.test_disclosure_policy import Source, expected

ROUTING = load_routing()
AGENCY_KEYS = {agency.agency_id: AgencyKeys.generate(agency.agency_id) for agency in ROUTING.agencies}
OTTAWA = {"country": "CA", "province": "ON", "city": "Ottawa"}
POLICE, PROTECTION = "ottawa-police-htu", "cas-ottawa"
ORDER = LegalReference(statute="Youth Protection Act (Quebec)", section="39", order_number="2026-0457")
FOLLOW_UP = "Ils partent pour Montréal ce soir."
APPROVE = "consent_confirmed"

Handle = Callable[[Any, Any], Awaitable[None]]


class Desk:
    """Disclosure as the runtime drives it, on memory: each event in its own transaction."""

    def __init__(self, package_max_bytes: int = MAX_PACKAGE_BYTES) -> None:
        self.settings = DisclosureSettings.model_construct(package_max_bytes=package_max_bytes)
        self.kek = KeyEncryptionKey(os.urandom(32))
        self.keystore = Keystore(self.kek, "disclosure")
        self.transactions = MemoryTransactions()
        self.store = self.transactions.store
        self.store.agency_keys = {agency_id: keys.public for agency_id, keys in AGENCY_KEYS.items()}
        self.routes: dict[type[Contract], Handle] = {}
        self.event_ids: dict[type[Contract], Any] = {}
        self.keys: dict[uuid.UUID, DataKey] = {}
        self.background_work: dict[str, Any] = {}
        wire(self)  # type: ignore[arg-type]

    def background(self, name: str, work: Any) -> None:
        self.background_work[name] = work

    def consume(
        self, topic: str, model: type[Contract], handle: Handle, event_id: Any = None, reads_tip: bool = True
    ) -> None:
        self.routes[model] = handle
        self.event_ids[model] = event_id

    async def deliver(self, *events: Contract) -> None:
        for event in events:
            async with self.transactions.begin() as uow:
                await self.routes[type(event)](event, uow)

    def tip(self, **body: Any) -> TipReceivedV1:
        """A tip from Ottawa whose identifiers are sealed under a key the keystore holds."""
        key = self.store.create_key(self.kek, uuid.uuid4())
        self.keys[key.tip_id] = key
        return tip_received(key=key, location=OTTAWA, **body)

    def follow_up(self, tip: TipReceivedV1, narrative: str) -> TipSupplementedV1:
        """The reporter's follow-up, sealed under the tip's key as intake seals it."""
        return tip_supplemented(tip, self.keys[tip.tip_id], narrative=narrative)

    async def approve(
        self,
        tip: TipReceivedV1,
        supervisor: uuid.UUID,
        legal_reference: LegalReference | None = None,
        ground: Basis | None = None,
    ) -> Verdict:
        reason = "legal_obligation" if legal_reference else APPROVE
        return await handlers.approve(
            tip.tip_id, Supervisor(supervisor, uuid.uuid4()), reason, self.transactions, self.keystore, ROUTING,
            legal_reference, ground, self.settings.package_max_bytes,
        )  # fmt: skip

    def packages(self, agency_id: str | None = None) -> list[LawEnforcementPackageV2]:
        """The packages sent, each opened with its agency's key as its liaison unit opens it."""
        return [
            open_package(message.content, AGENCY_KEYS[message.content.agency_id])
            for message in self.store.outbox
            if isinstance(message.content, LawEnforcementPackageV3)
            and message.topic == topics.agency_topic(agency_id or message.content.agency_id)
        ]

    def disclosures(self, tip: TipReceivedV1, kind: type[EventBase] = EventBase) -> list[Any]:
        return [
            message.content
            for message in self.store.outbox
            if message.topic == topics.DISCLOSURES
            and isinstance(message.content, kind)
            and message.content.tip_id == tip.tip_id
        ]

    def trail(self, tip: TipReceivedV1) -> list[str]:
        return [note.action for tip_id, note in self.store.audit if tip_id == tip.tip_id]

    def state(self, tip: TipReceivedV1) -> CaseState | None:
        return self.store.cases[tip.tip_id].state


@pytest.fixture
def desk() -> Desk:
    return Desk()


SPOKEN = (Channel.PHONE, Channel.CHAT)


@pytest.mark.parametrize(
    ("urgency", "police", "identity", "minor", "danger", "channel"),
    list(itertools.product(Urgency, (False, True), (False, True), ("none", "answer", "text"),
                           ("none", "answer", "text"), Channel)),
)  # fmt: skip
async def test_what_reaches_an_agency_follows_the_decision_table_and_names_the_caller_only_by_consent(
    urgency: Urgency, police: bool, identity: bool, minor: str, danger: str, channel: Channel
) -> None:
    desk = Desk()
    tip = desk.tip(
        channel=channel.value, consent={"law_enforcement": police, "share_identity": identity},
        assessment={"minor_involved": "yes" if minor == "answer" else "no",
                    "imminent_danger": "yes" if danger == "answer" else "no", "trafficking_types": ["sex"]},
        named_persons=[{"name": NAMED_PERSON, "relation": "suspect"}, {"name": "Victime Inventée", "relation": "victim"}],
    )  # fmt: skip
    await desk.deliver(tip, tip_triaged(tip, urgency.value, minor=minor == "text", danger=danger == "text"))

    def source(given: str) -> Source:
        if given == "answer":
            return "recorded" if channel in SPOKEN else "text"
        return "text" if given == "text" else "none"

    decision, basis, recipients, fields, queue = expected(
        urgency, police, identity, source(minor), source(danger), False, channel, None
    )
    [decided] = desk.disclosures(tip, DisclosureDecidedV1)
    reviewed_after = ReviewQueue.STANDARD if decision is Decision.FORWARD else queue
    assert (decided.decision, decided.basis, {f.value for f in decided.fields}, decided.queue) == (
        decision, basis, fields, reviewed_after,
    )  # fmt: skip
    sent = desk.packages()
    if decision is not Decision.FORWARD:
        assert sent == [] and desk.store.unseals == []
        return
    assert {package.agency_id for package in sent} == recipients
    for package in sent:
        content = package.content
        assert (package.basis, {f.value for f in package.fields}) == (basis, fields)
        assert content.suspects is not None and [p.name for p in content.suspects] == [NAMED_PERSON]
        assert content.narrative == ([NARRATIVE] if police else None)
        assert content.caller_contact == (Contact(**CONTACT) if identity else None)
        assert (content.reporter_role is not None) is identity
        assert (content.victim_profile is not None) is police and (content.needs is not None) is police
        assert str(tip.tip_id) not in package.model_dump_json()
        assert [(a.role, a.person_id) for a in package.approved_by] == [("specialist", SPECIALIST)]
    assert desk.trail(tip) == ["decided", "unsealed", *["forwarded"] * len(sent)]
    assert [forwarded.package_id for forwarded in desk.disclosures(tip, DisclosureForwardedV1)] == [
        package.package_id for package in sent
    ]
    opened_for_police = [message for message in desk.store.outbox if message.scrub_after_send]
    assert len(opened_for_police) == len(sent)


async def test_a_triage_that_overtakes_its_tip_is_deferred_and_decided_once_the_tip_is_there(
    desk: Desk,
) -> None:
    tip = desk.tip(consent={"law_enforcement": True})
    triaged = tip_triaged(tip, "non_urgent")
    with pytest.raises(Deferred):
        await desk.deliver(triaged)
    assert desk.store.cases == {} and desk.store.outbox == []

    await desk.deliver(tip, triaged)
    assert desk.state(tip) is CaseState.PENDING_REVIEW


async def test_an_erased_tip_goes_out_without_anything_it_sealed(desk: Desk) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True, "share_identity": True},
                   assessment={"imminent_danger": "yes"})  # fmt: skip
    desk.store.shred(tip.tip_id)
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))

    [package] = desk.packages(POLICE)
    assert package.content.narrative == [] and package.content.caller_contact is None
    assert package.content.location is not None
    assert desk.store.unseals == [
        Unseal(tip.tip_id, "disclosure.forward", ["contact", "named_persons", "narrative"], "erased")
    ]
    [unsealed] = [note for _, note in desk.store.audit if note.action == "unsealed"]
    assert unsealed.detail == {"fields": ["contact", "named_persons", "narrative"], "outcome": "erased"}


async def test_a_follow_up_received_before_the_forward_travels_in_the_first_package(desk: Desk) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True})
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"), desk.follow_up(tip, FOLLOW_UP))
    assert desk.packages() == []

    verdict = await desk.approve(tip, uuid.uuid4())

    assert verdict.state is CaseState.FORWARDED
    [package] = desk.packages(POLICE)
    assert package.content.narrative == [NARRATIVE, FOLLOW_UP]
    assert package.supplementary_to is None and len(package.approved_by) == 1


async def test_a_follow_up_after_the_forward_waits_for_a_supervisor_and_a_withdrawal_narrows_it(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))
    [first] = desk.packages(POLICE)

    await desk.deliver(desk.follow_up(tip, FOLLOW_UP))
    assert len(desk.packages(POLICE)) == 1, "a follow-up is web input: a supervisor sees it first"
    await desk.approve(tip, uuid.uuid4())
    await desk.deliver(consent_recorded(tip, 2, ["law_enforcement"]))
    await desk.deliver(desk.follow_up(tip, "Il a changé de numéro."))
    await desk.approve(tip, uuid.uuid4())

    _, second, third = desk.packages(POLICE)
    assert (second.supplementary_to, second.case_reference) == (first.package_id, first.case_reference)
    assert second.content.narrative == [FOLLOW_UP]
    assert (third.supplementary_to, third.basis) == (first.package_id, Basis.IMMINENT_DANGER)
    assert third.content.narrative is None, "without police consent now, the caller's words stay"
    assert desk.state(tip) is CaseState.FORWARDED
    assert "consent_changed" in desk.trail(tip) and "changes_forwarded" in desk.trail(tip)


async def test_a_follow_up_moves_a_forwarded_phone_case_from_ottawa_to_montreal_once_a_supervisor_approves(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))
    await desk.approve(tip, uuid.uuid4())
    [ottawa] = desk.packages(POLICE)
    follow_up = tip_supplemented(tip, desk.keys[tip.tip_id], narrative=FOLLOW_UP,
                                 location={"country": "CA", "province": "QC", "city": "Montréal"})  # fmt: skip
    moved = follow_up.update.applied_to(tip.facts)
    await desk.deliver(follow_up, tip_triaged(tip, "urgent", danger=True, revision=2, facts=moved))
    assert desk.packages("spvm") == [] and len(desk.packages(POLICE)) == 1

    await desk.approve(tip, uuid.uuid4())

    [montreal] = desk.packages("spvm")
    assert montreal.supplementary_to is None and montreal.basis is Basis.IMMINENT_DANGER
    assert montreal.content.location is not None and montreal.content.location.city == "Montréal"
    _, word = desk.packages(POLICE)
    assert word.supplementary_to == ottawa.package_id
    assert word.moved_to is not None and word.moved_to.agencies == ["spvm"]


async def test_a_withdrawal_cancels_a_pending_consent_forward_and_a_late_approval_is_refused(
    desk: Desk,
) -> None:
    tip = desk.tip(consent={"law_enforcement": True})
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"), consent_recorded(tip, 2, ["law_enforcement"]))

    assert desk.state(tip) is CaseState.CANCELLED
    assert desk.trail(tip)[-1] == "forward_cancelled"
    [cancelled] = desk.disclosures(tip, DisclosureCancelledV1)
    assert cancelled.basis is Basis.CONSENT
    with pytest.raises(CaseNotPending):
        await desk.approve(tip, uuid.uuid4())
    assert desk.packages() == []


async def test_an_older_consent_arriving_after_a_newer_one_never_stands_in_for_it(desk: Desk) -> None:
    tip = desk.tip(consent={"law_enforcement": True})
    await desk.deliver(
        tip, tip_triaged(tip, "non_urgent"), consent_recorded(tip, 3, ["law_enforcement"]),
        consent_recorded(tip, 2, [], law_enforcement=True),
    )  # fmt: skip
    assert desk.state(tip) is CaseState.CANCELLED
    assert desk.packages() == []


async def test_a_legal_obligation_needs_a_second_person_and_a_repeated_approval_leaves_nothing_behind(
    desk: Desk,
) -> None:
    tip = desk.tip(consent={"law_enforcement": False})
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"))
    supervisor, second = uuid.uuid4(), uuid.uuid4()

    first = await desk.approve(tip, supervisor, ORDER)
    assert (first.state, first.approvals, first.approvals_needed) == (CaseState.PENDING_REVIEW, 1, 2)
    trail, outbox = desk.trail(tip), list(desk.store.outbox)
    with pytest.raises(SameSupervisor):
        await desk.approve(tip, supervisor, ORDER)
    assert (desk.trail(tip), desk.store.outbox) == (trail, outbox)

    done = await desk.approve(tip, second, ORDER)
    assert done.state is CaseState.FORWARDED
    [package] = desk.packages(POLICE)
    assert (package.basis, package.legal_reference) == (Basis.LEGAL_OBLIGATION, ORDER)
    assert {approver.person_id for approver in package.approved_by} == {supervisor, second}
    assert package.content.narrative is None and package.content.victims is None


async def test_an_approval_without_a_basis_is_refused_and_audited(desk: Desk) -> None:
    tip = desk.tip(consent={"law_enforcement": False})
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"))
    verdict = await desk.approve(tip, uuid.uuid4())
    assert verdict.refused and verdict.refused[0].code == "basis.none"
    assert desk.trail(tip) == ["decided", "approval_refused"]
    assert desk.packages() == [] and desk.state(tip) is CaseState.NOT_FORWARDED


async def test_a_decline_stands_and_approving_or_declining_an_unknown_case_says_so(desk: Desk) -> None:
    tip = desk.tip(consent={"law_enforcement": True})
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"))
    supervisor = Supervisor(uuid.uuid4(), uuid.uuid4())

    verdict = await handlers.decline(tip.tip_id, supervisor, "caller_safety", desk.transactions)

    assert verdict.state is CaseState.DECLINED and desk.trail(tip)[-1] == "declined"
    with pytest.raises(CaseNotPending):
        await handlers.decline(tip.tip_id, supervisor, "caller_safety", desk.transactions)
    with pytest.raises(handlers.CaseNotFound):
        await handlers.decline(uuid.uuid4(), supervisor, "duplicate", desk.transactions)


async def test_the_review_clock_publishes_each_flag_once(desk: Desk) -> None:
    tip = desk.tip(assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    later = tip.received_at + timedelta(minutes=16)
    for _ in range(2):
        async with desk.transactions.begin() as uow:
            await handlers.flag_due_reviews(uow, later)
    flags = desk.disclosures(tip, DisclosureReviewFlaggedV1)
    assert sorted(flag.flag for flag in flags) == ["at_risk", "breached"]
    assert all(flag.queue is ReviewQueue.EXPEDITED for flag in flags)


async def test_an_acknowledgement_signed_by_the_packages_agency_is_recorded_as_its_delivery(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    police = desk.packages(POLICE)[0]
    receipt = sign_acknowledgement(
        LiaisonAcknowledgementV2(
            package_id=police.package_id, case_reference=police.case_reference, agency_id=POLICE
        ),
        AGENCY_KEYS[POLICE],
    )

    await desk.deliver(receipt)

    assert desk.event_ids[LiaisonAcknowledgementV2](receipt) == receipt.inbox_id
    [package] = [p for p in desk.store.cases[tip.tip_id].packages if p.package_id == police.package_id]
    assert package.acknowledged_at == receipt.acknowledged_at
    assert desk.trail(tip)[-1] == "acknowledged"
    assert any(event.event_type == "disclosure.acknowledged" for event in desk.disclosures(tip))


async def test_an_acknowledgement_signed_by_another_agency_does_not_count(desk: Desk) -> None:
    tip = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    police = desk.packages(POLICE)[0]
    receipt = LiaisonAcknowledgementV2(
        package_id=police.package_id, case_reference=police.case_reference, agency_id=POLICE
    )
    before = (list(desk.store.audit), list(desk.store.outbox))

    with pytest.raises(Unauthenticated):  # in the police's name, with the protection agency's key
        await desk.deliver(sign_acknowledgement(receipt, AGENCY_KEYS[PROTECTION]))
    with pytest.raises(Rejected) as rejected:  # in its own name, for a package it did not receive
        await desk.deliver(
            sign_acknowledgement(
                receipt.model_copy(update={"agency_id": PROTECTION}), AGENCY_KEYS[PROTECTION]
            )
        )

    assert not isinstance(rejected.value, Unauthenticated)
    assert isinstance(rejected.value.__cause__, UnknownPackage)
    assert (desk.store.audit, desk.store.outbox) == before
    assert all(p.acknowledged_at is None for p in desk.store.cases[tip.tip_id].packages)


async def test_an_acknowledgement_signed_with_the_key_its_package_was_sealed_to_counts_after_a_rotation(
    desk: Desk,
) -> None:
    before_rotation = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(before_rotation, tip_triaged(before_rotation, "urgent", minor=True))
    rotated_out = AGENCY_KEYS[POLICE]
    desk.store.retired_agency_keys[rotated_out.public.key_id] = RegisteredAgencyKey(
        rotated_out.public, retired_at=datetime.now(UTC)
    )
    desk.store.agency_keys[POLICE] = AgencyKeys.generate(POLICE).public
    after_rotation = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(after_rotation, tip_triaged(after_rotation, "urgent", minor=True))
    old_package, new_package = (
        message.content
        for message in desk.store.outbox
        if isinstance(message.content, LawEnforcementPackageV3) and message.content.agency_id == POLICE
    )
    assert old_package.key_id == rotated_out.public.key_id != new_package.key_id

    def receipt(package: LawEnforcementPackageV3) -> LiaisonAcknowledgementV2:
        return sign_acknowledgement(
            LiaisonAcknowledgementV2(
                package_id=package.package_id, case_reference=package.case_reference, agency_id=POLICE
            ),
            rotated_out,
        )

    await desk.deliver(receipt(old_package))
    with pytest.raises(Unauthenticated):  # the retired key never vouches for what was sealed after it
        await desk.deliver(receipt(new_package))

    acknowledged = {
        tip.tip_id: [
            p.acknowledged_at is not None
            for p in desk.store.cases[tip.tip_id].packages
            if p.agency_id == POLICE
        ]
        for tip in (before_rotation, after_rotation)
    }
    assert acknowledged == {before_rotation.tip_id: [True], after_rotation.tip_id: [False]}


async def test_an_unsigned_forged_or_altered_acknowledgement_is_unauthenticated_and_changes_nothing(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    police = desk.packages(POLICE)[0]
    unsigned = LiaisonAcknowledgementV2(
        package_id=police.package_id, case_reference=police.case_reference, agency_id=POLICE
    )
    genuine = sign_acknowledgement(unsigned, AGENCY_KEYS[POLICE])
    stranger = AgencyKeys.generate(POLICE)  # the police's name, a key Lantern never registered
    attempts = [
        unsigned,
        unsigned.model_copy(update={"schema_version": 1}),
        sign_acknowledgement(unsigned, stranger),
        sign_acknowledgement(unsigned, stranger).model_copy(update={"key_id": genuine.key_id}),
        genuine.model_copy(update={"acknowledged_at": genuine.acknowledged_at + timedelta(days=1)}),
        genuine.model_copy(update={"signature": genuine.signature[::-1] if genuine.signature else None}),
    ]
    before = (list(desk.store.audit), list(desk.store.outbox))

    for attempt in attempts:
        with pytest.raises(Unauthenticated):
            await desk.deliver(attempt)

    assert (desk.store.audit, desk.store.outbox) == before
    assert all(p.acknowledged_at is None for p in desk.store.cases[tip.tip_id].packages)
    assert all(attempt.inbox_id != genuine.inbox_id for attempt in attempts), (
        "a forged copy of an acknowledgement never takes the genuine one's place in the inbox"
    )


async def test_a_package_goes_out_sealed_to_its_agency_with_only_routing_fields_in_clear(desk: Desk) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True, "share_identity": True},
                   assessment={"minor_involved": "yes", "trafficking_types": ["sex"]})  # fmt: skip
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    [message] = [m for m in desk.store.outbox if m.topic == topics.agency_topic(POLICE)]

    assert message.content.model_dump(exclude={"sealed"}).keys() == {
        "message_type", "schema_version", "package_id", "case_reference", "agency_id", "key_id", "suite",
    }  # fmt: skip
    assert message.content.key_id == AGENCY_KEYS[POLICE].public.key_id
    forwarded = [note for tip_id, note in desk.store.audit if note.action == "forwarded"]
    assert message.content.key_id in [note.detail.get("key_id") for note in forwarded]
    raw = message.payload.decode()
    assert not any(value in raw for value in (*IDENTIFYING_VALUES, "child_protection", "urgent", "Ottawa"))
    assert desk.packages(POLICE)[0].content.narrative == [NARRATIVE]
    with pytest.raises(PackageUnreadable):
        open_package(message.content, AGENCY_KEYS[PROTECTION])
    with pytest.raises(PackageUnreadable):
        open_package(message.content, AgencyKeys.generate(POLICE))


async def test_no_package_is_opened_or_sent_to_an_agency_without_a_registered_key(desk: Desk) -> None:
    del desk.store.agency_keys[PROTECTION]
    tip = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(tip)

    with pytest.raises(handlers.NoAgencyKey, match=PROTECTION):
        await desk.deliver(tip_triaged(tip, "urgent", minor=True))

    assert desk.packages() == [] and desk.store.unseals == []
    assert tip.tip_id not in desk.store.cases


async def test_nothing_identifying_reaches_the_audit_or_disclosures_events(desk: Desk) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True, "share_identity": True},
                   assessment={"minor_involved": "yes"})  # fmt: skip
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    await desk.deliver(desk.follow_up(tip, FOLLOW_UP))
    await desk.approve(tip, uuid.uuid4())
    assert len(desk.packages()) == 4

    kept = repr(desk.store.audit) + "".join(event.model_dump_json() for event in desk.disclosures(tip))
    assert not any(value in kept for value in (*IDENTIFYING_VALUES, FOLLOW_UP))


async def test_a_package_larger_than_the_cap_never_goes_out_and_its_case_waits_for_a_supervisor() -> None:
    desk = Desk(package_max_bytes=600)
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))

    assert desk.packages() == [] and desk.disclosures(tip, DisclosureForwardedV1) == []
    case = desk.store.cases[tip.tip_id]
    assert case.state is CaseState.PENDING_REVIEW and case.packages == []
    assert (case.queue, case.review_reasons) == (ReviewQueue.EXPEDITED, ("package_too_large",))
    [held] = [note for tip_id, note in desk.store.audit if note.action == "package_held"]
    assert held.detail["cause"] == "package_too_large"
    assert [package["agency_id"] for package in held.detail["packages"]] == [POLICE]
    assert all(package["bytes"] > 600 for package in held.detail["packages"])
    assert not any(message.scrub_after_send for message in desk.store.outbox), "no opened content staged"
    last = desk.disclosures(tip, DisclosureDecidedV1)[-1]
    assert (last.state, last.queue, last.review_reasons) == (
        CaseState.PENDING_REVIEW, ReviewQueue.EXPEDITED, ["package_too_large"],
    ), "monitoring reads that the case waits again"  # fmt: skip

    verdict = await desk.approve(tip, uuid.uuid4())
    assert verdict.state is CaseState.PENDING_REVIEW, (
        "approving again sends nothing: a person decides another way"
    )
    assert desk.packages() == []
    declined = await handlers.decline(
        tip.tip_id, Supervisor(uuid.uuid4(), uuid.uuid4()), "other", desk.transactions
    )
    assert declined.state is CaseState.DECLINED


async def test_a_follow_up_too_large_to_send_waits_again_while_the_first_package_stands() -> None:
    desk = Desk(package_max_bytes=4_000)
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))
    [first] = desk.packages(POLICE)
    follow_up = desk.follow_up(tip, "Encore des détails. " * 300)
    await desk.deliver(follow_up)

    await desk.approve(tip, uuid.uuid4())

    assert desk.packages(POLICE) == [first]
    case = desk.store.cases[tip.tip_id]
    assert case.state is CaseState.FORWARDED and [p.package_id for p in case.packages] == [first.package_id]
    assert case.pending_supplements == (follow_up.supplement_id,)
    assert "package_too_large" in case.review_reasons and case.queue is ReviewQueue.EXPEDITED


async def test_a_city_the_gazetteer_does_not_list_travels_sealed_and_reaches_the_agency_opened(
    desk: Desk,
) -> None:
    listed = desk.tip(channel="phone", assessment={"imminent_danger": "yes"})
    key = desk.keys[listed.tip_id]
    tip = listed.model_copy(
        update={
            "facts": listed.facts.model_copy(
                update={"location": listed.facts.location.model_copy(update={"city": None})}
            ),
            "identifiers": listed.identifiers.model_copy(
                update={"city": key.seal("location.city", "Manotick")}
            ),
        }
    )
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))

    packages = desk.packages()
    assert packages and {
        package.content.location.city for package in packages if package.content.location
    } == {"Manotick"}
    [unsealed] = [note for _, note in desk.store.audit if note.action == "unsealed"]
    assert "location.city" in unsealed.detail["fields"]


async def test_a_package_of_a_listed_city_opens_no_city(desk: Desk) -> None:
    tip = desk.tip(channel="phone", assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))
    assert {p.content.location.city for p in desk.packages() if p.content.location} == {"Ottawa"}
    assert all("location.city" not in note.detail.get("fields", []) for _, note in desk.store.audit)


async def test_an_unlisted_city_is_not_attached_to_a_place_a_follow_up_moved_to_another_province(
    desk: Desk,
) -> None:
    listed = desk.tip(channel="web", consent={"law_enforcement": True})
    key = desk.keys[listed.tip_id]
    ontario = listed.facts.location.model_copy(update={"city": None})
    tip = listed.model_copy(
        update={
            "facts": listed.facts.model_copy(update={"location": ontario}),
            "identifiers": listed.identifiers.model_copy(
                update={"city": key.seal("location.city", "Manotick")}
            ),
        }
    )
    quebec = Location(country="CA", province="QC")
    triaged = tip_triaged(tip, "non_urgent", facts=tip.facts.model_copy(update={"location": quebec}))
    await desk.deliver(tip, triaged)
    await desk.approve(tip, uuid.uuid4())

    locations = {p.content.location for p in desk.packages() if p.content.location}
    assert locations and all((place.province, place.city) == ("QC", None) for place in locations)


async def test_a_follow_up_a_supervisor_kept_back_is_not_carried_to_the_agency_of_a_jurisdiction_the_case_moved_to(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))
    kept = "Il a une voiture rouge."
    await desk.deliver(desk.follow_up(tip, kept))
    await handlers.keep(tip.tip_id, Supervisor(uuid.uuid4(), uuid.uuid4()), "nothing_new", desk.transactions)
    moving = tip_supplemented(tip, desk.keys[tip.tip_id], narrative=FOLLOW_UP,
                              location={"country": "CA", "province": "QC", "city": "Montréal"})  # fmt: skip
    moved = moving.update.applied_to(tip.facts)
    await desk.deliver(moving, tip_triaged(tip, "urgent", danger=True, revision=2, facts=moved))

    await desk.approve(tip, uuid.uuid4())

    [montreal] = desk.packages("spvm")
    assert montreal.supplementary_to is None
    assert montreal.content.narrative == [NARRATIVE, FOLLOW_UP], (
        "kept back is kept back, for a new agency too"
    )
    assert not any(kept in (p.content.narrative or []) for p in desk.packages())
