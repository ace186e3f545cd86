from schemas.disclosure import Basis, Decision
from schemas.tip import Consent
from services.disclosure.domain.policy import decide


def test_recorded_consent_allows_a_forward_on_the_basis_of_consent() -> None:
    gate = decide(Consent(law_enforcement=True), minor_involved=False, imminent_danger=False)
    assert (gate.decision, gate.basis) == (Decision.FORWARD, Basis.CONSENT)


def test_a_minor_is_forwarded_without_consent_for_child_protection() -> None:
    gate = decide(Consent(), minor_involved=True, imminent_danger=False)
    assert (gate.decision, gate.basis) == (Decision.FORWARD, Basis.CHILD_PROTECTION)


def test_imminent_danger_is_forwarded_without_consent() -> None:
    gate = decide(Consent(), minor_involved=False, imminent_danger=True)
    assert (gate.decision, gate.basis) == (Decision.FORWARD, Basis.IMMINENT_DANGER)


def test_without_consent_or_a_mandatory_ground_nothing_is_forwarded() -> None:
    consent_to_everything_but_police = Consent(share_identity=True, service_referral=True, statistics=True)
    gate = decide(consent_to_everything_but_police, minor_involved=False, imminent_danger=False)
    assert (gate.decision, gate.basis) == (Decision.DO_NOT_FORWARD, Basis.NONE)


def test_no_combination_forwards_without_a_basis() -> None:
    for law_enforcement in (False, True):
        for minor in (False, True):
            for danger in (False, True):
                gate = decide(Consent(law_enforcement=law_enforcement), minor, danger)
                assert (gate.decision is Decision.FORWARD) == (gate.basis is not Basis.NONE)
                assert (gate.decision is Decision.FORWARD) == (law_enforcement or minor or danger)
