"""The statistics consent is three-valued (yes, no, not asked) and readers of either contract agree."""

from pydantic import BaseModel, ConfigDict

from schemas.tip import Consent, TipSubmission
from tests.factories import tip_body


class ConsentAsFirstPublished(BaseModel):
    """The consent as readers of the earlier contract parse it: a plain boolean, false by default."""

    model_config = ConfigDict(extra="forbid")
    law_enforcement: bool = False
    share_identity: bool = False
    service_referral: bool = False
    statistics: bool = False


def test_a_question_not_asked_is_left_off_the_wire_and_an_earlier_reader_reads_it_as_no_consent() -> None:
    wire = Consent(service_referral=True).model_dump_json()
    assert "statistics" not in wire
    assert ConsentAsFirstPublished.model_validate_json(wire).statistics is False


def test_a_yes_and_a_no_travel_as_the_booleans_earlier_readers_know() -> None:
    for answer in (True, False):
        wire = Consent(statistics=answer).model_dump_json()
        assert ConsentAsFirstPublished.model_validate_json(wire).statistics is answer


def test_every_earlier_event_keeps_its_meaning_a_false_stays_a_no() -> None:
    for answer in (True, False):
        earlier = ConsentAsFirstPublished(statistics=answer).model_dump_json()
        assert Consent.model_validate_json(earlier).statistics is answer


def test_a_tip_submitted_without_the_question_is_not_asked_and_null_means_the_same() -> None:
    body = tip_body()
    body["consent"] = {"service_referral": True}
    assert TipSubmission.model_validate(body).consent.statistics is None
    body["consent"] = {"statistics": None}
    assert TipSubmission.model_validate(body).consent.statistics is None
