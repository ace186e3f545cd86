"""A package withheld on replay after a broker wipe, decided by a supervisor (in memory): issued again
on what holds now, or set aside; the case's flag clears once no withheld package waits.
"""

from __future__ import annotations

import uuid
from dataclasses import replace

import pytest

from schemas.disclosure import (
    Basis,
    DisclosureDecidedV1,
    LawEnforcementPackageV2,
    LiaisonAcknowledgementV2,
    PackageField,
)
from schemas.envelope import utc_now
from schemas.intake import TipReceivedV1
from services.common.agency_keys import sign_acknowledgement
from services.disclosure import handlers
from services.disclosure.domain.case import (
    CaseNotPending,
    NotWithheld,
    SameSupervisor,
    Supervisor,
    Verdict,
    WithheldDecision,
)
from tests.factories import CONTACT, NAMED_PERSON, NARRATIVE, consent_recorded, tip_triaged
from tests.unit.test_disclosure_handlers import (
    AGENCY_KEYS,
    FOLLOW_UP,
    ORDER,
    POLICE,
    PROTECTION,
    ROUTING,
    Desk,
)


@pytest.fixture
def desk() -> Desk:
    return Desk()


DANGER = {"channel": "phone", "assessment": {"imminent_danger": "yes", "trafficking_types": ["labour"]}}
NAMED = [{"name": NAMED_PERSON, "relation": "suspect"}]


def withhold(desk: Desk, tip: TipReceivedV1, reason: str) -> list[uuid.UUID]:
    """What ``app.WITHHELD_ON_REPLAY`` does to a case after a broker wipe: every unacknowledged
    package is marked, and the case flagged."""
    case = desk.store.cases[tip.tip_id]
    now = utc_now()
    case.packages = [
        replace(package, withheld_at=now, withheld_reason=reason)
        if package.acknowledged_at is None
        else package
        for package in case.packages
    ]
    case.replay_withheld_at = now
    return [package.package_id for package in case.packages if package.withheld_at is not None]


async def reissue(desk: Desk, tip: TipReceivedV1, package_id: uuid.UUID, person: uuid.UUID) -> Verdict:
    return await handlers.reissue(
        tip.tip_id, package_id, Supervisor(person, uuid.uuid4()), "basis_still_stands", desk.transactions,
        desk.keystore, ROUTING, desk.settings.package_max_bytes,
    )  # fmt: skip


async def set_aside(desk: Desk, tip: TipReceivedV1, package_id: uuid.UUID) -> Verdict:
    return await handlers.set_aside(
        tip.tip_id,
        package_id,
        Supervisor(uuid.uuid4(), uuid.uuid4()),
        "reached_another_way",
        desk.transactions,
    )


async def test_a_package_whose_consent_was_withdrawn_without_a_mandatory_ground_is_never_sent_again(
    desk: Desk,
) -> None:
    tip = desk.tip(consent={"law_enforcement": True}, named_persons=NAMED)
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"))
    await desk.approve(tip, uuid.uuid4())
    [first] = desk.packages(POLICE)
    await desk.deliver(consent_recorded(tip, 2, ["law_enforcement"]))
    [package_id] = withhold(desk, tip, "consent_changed")
    sent = len(desk.packages())

    verdict = await reissue(desk, tip, package_id, uuid.uuid4())

    assert verdict.refused and verdict.refused[0].code == "basis.none"
    assert len(desk.packages()) == sent, "nothing goes out"
    assert desk.trail(tip)[-1] == "reissue_refused"
    case = desk.store.cases[tip.tip_id]
    assert case.replay_withheld_at is not None and case.withheld(package_id).withheld_decision is None

    await set_aside(desk, tip, package_id)

    case = desk.store.cases[tip.tip_id]
    [withheld] = [p for p in case.packages if p.package_id == first.package_id]
    assert withheld.withheld_decision is WithheldDecision.SET_ASIDE and withheld.reissued_as is None
    assert case.replay_withheld_at is None
    [noted] = [note for tip_id, note in desk.store.audit if note.action == "withheld_set_aside"]
    assert noted.detail == {
        "package_id": str(package_id),
        "reason": "reached_another_way",
        "follow_ups_not_sent": [],
    }
    assert noted.actor.startswith("supervisor:")
    assert len(desk.packages()) == sent
    with pytest.raises(NotWithheld):
        await reissue(desk, tip, package_id, uuid.uuid4())
    with pytest.raises(NotWithheld):
        await set_aside(desk, tip, uuid.uuid4())


async def test_a_shredded_tips_package_goes_again_on_its_ground_without_what_the_shred_erased(
    desk: Desk,
) -> None:
    tip = desk.tip(consent={"law_enforcement": True, "share_identity": True}, named_persons=NAMED, **DANGER)
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))
    [first] = desk.packages(POLICE)
    assert first.content.narrative == [NARRATIVE] and first.content.caller_contact is not None
    desk.store.shred(tip.tip_id)
    [package_id] = withhold(desk, tip, "tip_shredded")
    supervisor = uuid.uuid4()

    verdict = await reissue(desk, tip, package_id, supervisor)

    assert not verdict.refused and verdict.approvals == verdict.approvals_needed == 1
    assert verdict.fields_erased >= {PackageField.NARRATIVE, PackageField.CALLER_CONTACT}
    _, again = desk.packages(POLICE)
    assert again.package_id != first.package_id and again.supplementary_to is None
    assert again.basis is first.basis is Basis.IMMINENT_DANGER
    assert not set(again.fields) & {
        PackageField.NARRATIVE,
        PackageField.CALLER_CONTACT,
        PackageField.SUSPECT_NAMES,
    }
    assert again.content.narrative is None and again.content.caller_contact is None
    assert again.content.suspects is None and again.content.location is not None
    assert [(a.role, a.person_id) for a in again.approved_by] == [("supervisor", supervisor)]
    dump = again.model_dump_json()
    assert NARRATIVE not in dump and NAMED_PERSON not in dump and CONTACT["phone"] not in dump
    case = desk.store.cases[tip.tip_id]
    assert case.replay_withheld_at is None
    [old] = [p for p in case.packages if p.package_id == package_id]
    assert (old.withheld_decision, old.reissued_as) == (WithheldDecision.REISSUED, again.package_id)
    assert case.first_packages == [p for p in case.packages if p.package_id == again.package_id]
    approved = [note for _, note in desk.store.audit if note.action == "reissue_approved"]
    assert approved[0].detail["fields_erased"] == sorted(f.value for f in verdict.fields_erased)
    assert desk.trail(tip)[-2:] == ["reissue_approved", "forwarded"], "nothing sealed is asked for"

    receipt = sign_acknowledgement(
        LiaisonAcknowledgementV2(
            package_id=again.package_id, case_reference=again.case_reference, agency_id=POLICE
        ),
        AGENCY_KEYS[POLICE],
    )
    await desk.deliver(receipt)
    [acknowledged] = [p for p in desk.store.cases[tip.tip_id].packages if p.package_id == again.package_id]
    assert acknowledged.acknowledged_at == receipt.acknowledged_at


async def test_a_legal_obligation_package_goes_again_only_on_a_second_persons_approval(desk: Desk) -> None:
    tip = desk.tip(consent={"law_enforcement": False})
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"))
    await desk.approve(tip, uuid.uuid4(), ORDER)
    await desk.approve(tip, uuid.uuid4(), ORDER)
    [package_id] = withhold(desk, tip, "consent_changed")
    first, second = uuid.uuid4(), uuid.uuid4()

    one = await reissue(desk, tip, package_id, first)
    assert (one.approvals, one.approvals_needed) == (1, 2)
    assert len(desk.packages(POLICE)) == 1 and desk.store.cases[tip.tip_id].replay_withheld_at is not None
    trail, outbox = desk.trail(tip), list(desk.store.outbox)
    with pytest.raises(SameSupervisor):
        await reissue(desk, tip, package_id, first)
    assert (desk.trail(tip), desk.store.outbox) == (trail, outbox)

    two = await reissue(desk, tip, package_id, second)

    assert (two.approvals, two.approvals_needed) == (2, 2)
    _, again = desk.packages(POLICE)
    assert (again.basis, again.legal_reference) == (Basis.LEGAL_OBLIGATION, ORDER)
    assert {approver.person_id for approver in again.approved_by} == {first, second}
    assert desk.store.cases[tip.tip_id].replay_withheld_at is None


async def test_the_flag_stays_while_one_of_a_cases_withheld_packages_waits(desk: Desk) -> None:
    tip = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    assert {package.agency_id for package in desk.packages()} == {POLICE, PROTECTION}
    withheld = withhold(desk, tip, "consent_changed")
    assert len(withheld) == 2

    await set_aside(desk, tip, withheld[0])
    assert desk.store.cases[tip.tip_id].replay_withheld_at is not None

    verdict = await reissue(desk, tip, withheld[1], uuid.uuid4())

    assert not verdict.refused and verdict.approvals == verdict.approvals_needed
    assert len(desk.packages()) == 3
    assert desk.store.cases[tip.tip_id].replay_withheld_at is None


async def test_a_follow_up_issued_again_follows_the_first_package_issued_in_its_place_and_carries_its_own_words(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True), desk.follow_up(tip, FOLLOW_UP))
    await desk.approve(tip, uuid.uuid4())
    first, follow_up = desk.packages(POLICE)
    assert follow_up.supplementary_to == first.package_id
    withhold(desk, tip, "consent_changed")

    await reissue(desk, tip, first.package_id, uuid.uuid4())
    await reissue(desk, tip, follow_up.package_id, uuid.uuid4())

    _, _, first_again, follow_up_again = desk.packages(POLICE)
    assert first_again.supplementary_to is None
    assert follow_up_again.supplementary_to == first_again.package_id
    assert follow_up_again.content.narrative == [FOLLOW_UP], "the follow-up's words, not the tip's"
    assert first_again.content.narrative == [NARRATIVE]


async def test_a_shredded_tips_package_is_not_sent_again_on_consent_once_its_consent_history_is_gone(
    desk: Desk,
) -> None:
    tip = desk.tip(consent={"law_enforcement": True}, named_persons=NAMED)
    await desk.deliver(tip, tip_triaged(tip, "non_urgent"))
    await desk.approve(tip, uuid.uuid4())
    await desk.deliver(consent_recorded(tip, 2, ["law_enforcement"]))
    desk.store.shred(tip.tip_id)
    # What retention did before it kept the consent records with their case: the withdrawal is gone.
    desk.store.consents.pop(tip.tip_id)
    [package_id] = withhold(desk, tip, "tip_shredded")
    sent = len(desk.packages())

    verdict = await reissue(desk, tip, package_id, uuid.uuid4())

    assert verdict.refused and verdict.refused[0].code == "reissue.consent_history_gone"
    assert len(desk.packages()) == sent, "nothing goes out on the tip's own consent"
    [refused] = [note for _, note in desk.store.audit if note.action == "reissue_refused"]
    assert refused.detail["cause"] == "reissue.consent_history_gone"
    assert desk.store.cases[tip.tip_id].withheld(package_id).withheld_decision is None


async def test_a_withheld_package_its_agency_acknowledges_after_all_is_closed_and_never_issued_again(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    withheld = withhold(desk, tip, "consent_changed")
    [police] = [p for p in desk.packages(POLICE)]
    [police_id] = [p for p in withheld if p == police.package_id]
    sent = len(desk.packages())

    await desk.deliver(
        sign_acknowledgement(
            LiaisonAcknowledgementV2(
                package_id=police.package_id, case_reference=police.case_reference, agency_id=POLICE
            ),
            AGENCY_KEYS[POLICE],
        )
    )

    case = desk.store.cases[tip.tip_id]
    [closed] = [p for p in case.packages if p.package_id == police_id]
    assert closed.withheld_decision is WithheldDecision.ACKNOWLEDGED and closed.reissued_as is None
    [noted] = [note for _, note in desk.store.audit if note.action == "withheld_acknowledged"]
    assert (
        noted.detail == {"package_id": str(police_id), "follow_ups_owed": []}
        and noted.actor == f"agency:{POLICE}"
    )
    assert case.replay_withheld_at is not None, "the other agency's package still waits"
    with pytest.raises(NotWithheld):
        case.withheld(police_id)
    with pytest.raises(NotWithheld):
        await reissue(desk, tip, police_id, uuid.uuid4())
    assert len(desk.packages()) == sent, "the agency holds it: nothing goes twice"

    [other] = [p for p in withheld if p != police_id]
    [protection] = [p for p in desk.packages(PROTECTION) if p.package_id == other]
    await desk.deliver(
        sign_acknowledgement(
            LiaisonAcknowledgementV2(
                package_id=other, case_reference=protection.case_reference, agency_id=PROTECTION
            ),
            AGENCY_KEYS[PROTECTION],
        )
    )
    assert desk.store.cases[tip.tip_id].replay_withheld_at is None


async def test_a_follow_up_goes_only_to_agencies_holding_their_first_package_never_after_a_set_aside(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    [police] = desk.packages(POLICE)
    [protection] = desk.packages(PROTECTION)
    await desk.deliver(
        sign_acknowledgement(
            LiaisonAcknowledgementV2(
                package_id=protection.package_id,
                case_reference=protection.case_reference,
                agency_id=PROTECTION,
            ),
            AGENCY_KEYS[PROTECTION],
        )
    )
    assert withhold(desk, tip, "consent_changed") == [police.package_id]
    await set_aside(desk, tip, police.package_id)
    await desk.deliver(desk.follow_up(tip, FOLLOW_UP))

    verdict = await desk.approve(tip, uuid.uuid4())

    assert not verdict.refused
    assert desk.packages(POLICE) == [police], "nothing follows a package the supervisor set aside"
    _, follow_up = desk.packages(PROTECTION)
    assert follow_up.supplementary_to == protection.package_id


async def test_a_follow_up_is_not_issued_again_before_its_first_package_and_never_after_a_set_aside(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True), desk.follow_up(tip, FOLLOW_UP))
    await desk.approve(tip, uuid.uuid4())
    first, follow_up = desk.packages(POLICE)
    withhold(desk, tip, "consent_changed")
    sent = len(desk.packages())

    waiting = await reissue(desk, tip, follow_up.package_id, uuid.uuid4())
    await set_aside(desk, tip, first.package_id)
    set_aside_first = await reissue(desk, tip, follow_up.package_id, uuid.uuid4())

    for verdict in (waiting, set_aside_first):
        assert verdict.refused and verdict.refused[0].code == "reissue.first_package_not_held"
    assert len(desk.packages()) == sent, "no follow-up without the package it follows"
    assert desk.store.cases[tip.tip_id].withheld(follow_up.package_id).withheld_decision is None


async def acknowledge(desk: Desk, package: LawEnforcementPackageV2) -> None:
    receipt = LiaisonAcknowledgementV2(
        package_id=package.package_id, case_reference=package.case_reference, agency_id=package.agency_id
    )
    await desk.deliver(sign_acknowledgement(receipt, AGENCY_KEYS[package.agency_id]))


async def a_case_whose_police_package_waits(desk: Desk) -> tuple[TipReceivedV1, LawEnforcementPackageV2]:
    """A call about a minor went to police and child protection; after a broker wipe, police's package
    (unacknowledged) waits for a supervisor, child protection's (acknowledged) does not."""
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"minor_involved": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", minor=True))
    [police] = desk.packages(POLICE)
    [protection] = desk.packages(PROTECTION)
    await acknowledge(desk, protection)
    assert withhold(desk, tip, "consent_changed") == [police.package_id]
    return tip, police


def carrying(desk: Desk, agency_id: str, words: str) -> list[LawEnforcementPackageV2]:
    return [p for p in desk.packages(agency_id) if words in (p.content.narrative or [])]


async def test_a_follow_up_sent_on_while_an_agencys_first_package_waits_reaches_it_once_in_the_reissue(
    desk: Desk,
) -> None:
    tip, police = await a_case_whose_police_package_waits(desk)
    await desk.deliver(desk.follow_up(tip, FOLLOW_UP))
    await desk.approve(tip, uuid.uuid4())
    assert desk.packages(POLICE) == [police] and len(carrying(desk, PROTECTION, FOLLOW_UP)) == 1

    await reissue(desk, tip, police.package_id, uuid.uuid4())

    _, again = desk.packages(POLICE)
    assert again.supplementary_to is None and again.content.narrative == [NARRATIVE, FOLLOW_UP]
    [forwarded] = [
        n for _, n in desk.store.audit if n.action == "forwarded" and n.detail.get("follow_ups_owed")
    ]
    assert forwarded.detail["package_id"] == str(again.package_id)
    assert forwarded.actor.startswith("supervisor:")
    await desk.deliver(desk.follow_up(tip, "Elle a appelé de Gatineau."))
    await desk.approve(tip, uuid.uuid4())
    assert len(carrying(desk, POLICE, FOLLOW_UP)) == 1, "never twice"
    [latest] = carrying(desk, POLICE, "Elle a appelé de Gatineau.")
    assert latest.supplementary_to == again.package_id and latest.content.narrative == [
        "Elle a appelé de Gatineau."
    ]


async def test_a_follow_up_owed_to_an_agency_whose_first_package_is_set_aside_never_goes_and_the_audit_says_so(
    desk: Desk,
) -> None:
    tip, police = await a_case_whose_police_package_waits(desk)
    follow_up = desk.follow_up(tip, FOLLOW_UP)
    await desk.deliver(follow_up)
    await desk.approve(tip, uuid.uuid4())

    await set_aside(desk, tip, police.package_id)
    await desk.deliver(desk.follow_up(tip, "Elle a appelé de Gatineau."))
    await desk.approve(tip, uuid.uuid4())

    assert desk.packages(POLICE) == [police], "nothing of either follow-up reaches police"
    [set_aside_note] = [n for _, n in desk.store.audit if n.action == "withheld_set_aside"]
    assert set_aside_note.detail["follow_ups_not_sent"] == [str(follow_up.supplement_id)]
    *_, later = [n for _, n in desk.store.audit if n.action == "changes_forwarded"]
    [not_sent] = later.detail["follow_ups_not_sent"]
    assert (not_sent["agency_id"], not_sent["package_id"], not_sent["cause"]) == (
        POLICE, str(police.package_id), "first_package_set_aside",
    )  # fmt: skip
    assert later.actor.startswith("supervisor:")


async def test_a_follow_up_a_supervisor_kept_back_is_not_carried_by_a_first_package_issued_again(
    desk: Desk,
) -> None:
    tip = desk.tip(channel="phone", consent={"law_enforcement": True}, assessment={"imminent_danger": "yes"})
    await desk.deliver(tip, tip_triaged(tip, "urgent", danger=True))
    [police] = desk.packages(POLICE)
    await desk.deliver(desk.follow_up(tip, FOLLOW_UP))
    await handlers.keep(tip.tip_id, Supervisor(uuid.uuid4(), uuid.uuid4()), "nothing_new", desk.transactions)
    withhold(desk, tip, "consent_changed")

    await reissue(desk, tip, police.package_id, uuid.uuid4())

    _, again = desk.packages(POLICE)
    assert again.content.narrative == [NARRATIVE], "kept back is kept back, a broker wipe or not"
    assert carrying(desk, POLICE, FOLLOW_UP) == []


async def test_a_follow_up_owed_to_an_agency_that_acknowledges_its_waiting_package_after_all_waits_for_a_supervisor(
    desk: Desk,
) -> None:
    tip, police = await a_case_whose_police_package_waits(desk)
    follow_up = desk.follow_up(tip, FOLLOW_UP)
    await desk.deliver(follow_up)
    await desk.approve(tip, uuid.uuid4())

    await acknowledge(desk, police)

    case = desk.store.cases[tip.tip_id]
    assert case.waiting and f"follow_ups_owed.{POLICE}" in case.review_reasons
    *_, decided = desk.disclosures(tip, DisclosureDecidedV1)
    assert decided.reasons[0].code == "review.follow_ups_owed" and decided.queue is not None
    [closed] = [n for _, n in desk.store.audit if n.action == "withheld_acknowledged"]
    assert closed.detail["follow_ups_owed"] == [str(follow_up.supplement_id)]

    await desk.approve(tip, uuid.uuid4())

    [owed] = carrying(desk, POLICE, FOLLOW_UP)
    assert owed.supplementary_to == police.package_id and owed.content.narrative == [FOLLOW_UP]
    assert len(carrying(desk, PROTECTION, FOLLOW_UP)) == 1, "child protection had it already"
    assert not desk.store.cases[tip.tip_id].waiting
    with pytest.raises(CaseNotPending):
        await desk.approve(tip, uuid.uuid4())


async def test_a_follow_up_owed_to_an_agency_that_acknowledged_after_all_and_kept_back_by_a_supervisor_never_goes(
    desk: Desk,
) -> None:
    tip, police = await a_case_whose_police_package_waits(desk)
    follow_up = desk.follow_up(tip, FOLLOW_UP)
    await desk.deliver(follow_up)
    await desk.approve(tip, uuid.uuid4())
    await acknowledge(desk, police)

    await handlers.keep(tip.tip_id, Supervisor(uuid.uuid4(), uuid.uuid4()), "nothing_new", desk.transactions)

    [kept] = [n for _, n in desk.store.audit if n.action == "kept"]
    assert kept.detail["supplements_not_forwarded"] == [str(follow_up.supplement_id)]
    case = desk.store.cases[tip.tip_id]
    assert not case.waiting and all(not package.owed for package in case.packages)
    await desk.deliver(desk.follow_up(tip, "Elle a appelé de Gatineau."))
    await desk.approve(tip, uuid.uuid4())
    assert carrying(desk, POLICE, FOLLOW_UP) == [], "kept back is kept back"
    assert len(carrying(desk, POLICE, "Elle a appelé de Gatineau.")) == 1


async def test_an_agency_that_acknowledges_its_set_aside_package_gets_what_it_was_owed_once_a_supervisor_sends_it(
    desk: Desk,
) -> None:
    tip, police = await a_case_whose_police_package_waits(desk)
    before = desk.follow_up(tip, FOLLOW_UP)
    await desk.deliver(before)
    await desk.approve(tip, uuid.uuid4())
    await set_aside(desk, tip, police.package_id)
    after = desk.follow_up(tip, "Elle a appelé de Gatineau.")
    await desk.deliver(after)
    await desk.approve(tip, uuid.uuid4())
    assert desk.packages(POLICE) == [police]

    await acknowledge(desk, police)

    case = desk.store.cases[tip.tip_id]
    assert case.waiting and f"follow_ups_owed.{POLICE}" in case.review_reasons
    *_, decided = desk.disclosures(tip, DisclosureDecidedV1)
    assert decided.reasons[0].code == "review.follow_ups_owed" and decided.queue is not None
    [noted] = [n for _, n in desk.store.audit if n.action == "set_aside_acknowledged"]
    assert noted.detail["follow_ups_owed"] == [str(before.supplement_id), str(after.supplement_id)]
    assert noted.actor == f"agency:{POLICE}"
    [closed] = [p for p in case.packages if p.package_id == police.package_id]
    assert closed.withheld_decision is WithheldDecision.SET_ASIDE, "a supervisor's decision stays on record"

    await desk.approve(tip, uuid.uuid4())

    sent = [(p.supplementary_to, p.content.narrative) for p in desk.packages(POLICE)[1:]]
    assert sent == [
        (police.package_id, [FOLLOW_UP]),
        (police.package_id, ["Elle a appelé de Gatineau."]),
    ], "each owed follow-up goes once, after the package it follows"
    assert len(carrying(desk, PROTECTION, FOLLOW_UP)) == 1, "child protection had it already"
    assert not desk.store.cases[tip.tip_id].waiting
    await acknowledge(desk, police)
    assert not desk.store.cases[tip.tip_id].waiting, "a second receipt queues nothing"


async def test_a_follow_up_after_an_agency_acknowledged_its_set_aside_package_goes_to_it(desk: Desk) -> None:
    tip, police = await a_case_whose_police_package_waits(desk)
    await set_aside(desk, tip, police.package_id)
    await acknowledge(desk, police)
    case = desk.store.cases[tip.tip_id]
    assert f"follow_ups_owed.{POLICE}" not in case.review_reasons, "nothing was owed: nothing to decide"

    await desk.deliver(desk.follow_up(tip, FOLLOW_UP))
    await desk.approve(tip, uuid.uuid4())

    [later] = carrying(desk, POLICE, FOLLOW_UP)
    assert later.supplementary_to == police.package_id and later.content.narrative == [FOLLOW_UP]
    *_, forwarded = [n for _, n in desk.store.audit if n.action == "changes_forwarded"]
    assert forwarded.detail["follow_ups_not_sent"] == []
