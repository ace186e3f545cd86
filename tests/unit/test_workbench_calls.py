"""A call as the specialist types it becomes the tip body intake validates, in the hotline's order."""

from datetime import UTC, datetime, timedelta

from schemas.tip import HeardVia, TipSubmission
from services.intake.domain.submissions import SupplementSubmission
from services.workbench.domain.calls import kept_values, supplement_body, tip_body

STARTED = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ENDED = STARTED + timedelta(minutes=14)


def test_a_phone_call_about_a_minor_becomes_a_valid_staff_tip_with_its_call_recorded() -> None:
    form = {
        "channel": ["phone"], "language": ["fr"], "reporter_role": ["family_friend"], "anonymous": ["yes"],
        "contact_name": ["ignored when anonymous"], "consent_law_enforcement": ["yes"],
        "consent_share_identity": ["no"], "consent_service_referral": ["yes"], "consent_statistics": ["not_asked"],
        "country": ["ca"], "province": ["ON"], "city": ["Ottawa"], "narrative": ["Ma nièce de 15 ans ..."],
        "minor_involved": ["yes"], "imminent_danger": ["unknown"], "victim_age": ["15"],
        "trafficking_types": ["sex"], "needs": ["emergency_shelter", "crisis_support"], "profile_age": ["15"],
        "gender_identity": ["woman"], "profile_languages": ["fr, en"], "indigenous": ["no"],
        "interpreter_language": ["ES"], "safe_to_call_back": ["no"], "safe_to_leave_message": ["no"],
        "heard_via": ["school"],
    }  # fmt: skip
    tip = TipSubmission.model_validate(tip_body(form, STARTED, ENDED))
    assert tip.channel.value == "phone" and tip.anonymous and tip.contact is None
    assert tip.consent.law_enforcement and tip.consent.service_referral and not tip.consent.share_identity
    assert tip.consent.statistics is None  # not asked: counted, never a recorded "no"
    assert tip.assessment.minor_involved.value == "yes" and tip.assessment.victim_age == 15
    assert tip.location.country == "CA" and tip.location.city == "Ottawa"
    assert tip.victim_profile is not None and tip.victim_profile.languages == ["fr", "en"]
    assert tip.interpreter_used
    assert tip.call is not None and tip.call.interpreter_language == "es"
    assert tip.call.started_at == STARTED and tip.call.ended_at == ENDED
    assert tip.call.safe_to_call_back is False and tip.call.heard_via is HeardVia.SCHOOL


def test_questions_left_unanswered_keep_the_schemas_defaults() -> None:
    tip = TipSubmission.model_validate(tip_body({"narrative": ["Something happened."]}, STARTED, ENDED))
    assert tip.channel.value == "phone" and tip.anonymous and tip.contact is None
    assert not tip.consent.law_enforcement and tip.consent.statistics is None
    assert tip.assessment.minor_involved.value == "unknown" and not tip.interpreter_used
    assert tip.call is not None and tip.call.heard_via is HeardVia.NOT_ASKED
    assert tip.call.safe_to_call_back is None


def test_a_caller_who_gives_contact_details_has_them_in_the_tip() -> None:
    form = {
        "narrative": ["x"],
        "anonymous": ["no"],
        "contact_phone": ["+1 613 555 0100"],
        "contact_email": [""],
    }
    tip = TipSubmission.model_validate(tip_body(form, STARTED, ENDED))
    assert not tip.anonymous and tip.contact is not None and tip.contact.phone == "+1 613 555 0100"
    assert tip.contact.email is None


def test_a_returning_callers_information_is_found_by_reference_and_code_only() -> None:
    body = supplement_body(
        {"reference": ["lt-abcd"], "code": ["K7QM-3XD9"], "narrative": ["moved tonight"],
         "imminent_danger": ["yes"], "channel": ["chat"], "name": ["never read"]}
    )  # fmt: skip
    assert body == {
        "reference": "LT-ABCD", "code": "K7QM-3XD9", "channel": "chat", "narrative": "moved tonight",
        "assessment": {"imminent_danger": "yes"},
    }  # fmt: skip
    SupplementSubmission.model_validate(
        {key: value for key, value in body.items() if key not in ("reference", "channel")}
    )


def test_a_refused_call_keeps_what_was_typed_but_never_the_session_or_the_form_token() -> None:
    kept = kept_values(
        {"narrative": ["text"], "csrf": ["secret"], "started_at": ["t"], "needs": ["legal", ""]}
    )
    assert kept["narrative"] == ["text"] and kept["needs"] == ["legal"]
    assert "csrf" not in kept and "started_at" not in kept
