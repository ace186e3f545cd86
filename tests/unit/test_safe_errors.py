import uuid

import pytest
from pydantic import ValidationError

from schemas.intake import TipReceivedV1
from schemas.tip import TipSubmission
from services.common.errors import UNKNOWN_FIELD, describe
from tests.factories import tip_body

SECRET = "Marie-Claude Tremblay 514-555-0147"


def errors_of(model: type, payload: dict) -> list:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return describe(caught.value, model)


def test_an_error_names_the_field_and_the_rule() -> None:
    described = errors_of(TipSubmission, tip_body(location={"country": "CA", "province": "XX"}))
    assert [(e.field, e.rule) for e in described] == [("location.province", "enum")]


def test_an_error_never_repeats_the_submitted_value() -> None:
    payloads = [
        tip_body(language=SECRET),
        tip_body(contact={"phone": SECRET}),
        tip_body(narrative=SECRET * 1000),
        tip_body(assessment={"victim_age": SECRET}),
        {**tip_body(), SECRET: SECRET},
    ]
    for payload in payloads:
        for error in errors_of(TipSubmission, payload):
            assert "Tremblay" not in f"{error.field} {error.rule} {error.message}"


def test_an_unknown_field_is_named_only_as_unknown() -> None:
    described = errors_of(TipSubmission, {**tip_body(), "Jean Gagnon": 1})
    assert [(e.field, e.rule) for e in described] == [(UNKNOWN_FIELD, "extra_forbidden")]


def test_a_malformed_uuid_error_does_not_quote_the_input() -> None:
    described = errors_of(TipReceivedV1, {"tip_id": "Tremblay-" + str(uuid.uuid4())})
    tip_id_error = next(e for e in described if e.field == "tip_id")
    assert tip_id_error.message == "Give a UUID."


def test_country_and_language_codes_must_exist_in_the_iso_lists() -> None:
    described = errors_of(TipSubmission, tip_body(language="zz", location={"country": "XX"}))
    assert {(e.field, e.rule) for e in described} == {
        ("language", "iso_639"),
        ("location.country", "iso_3166"),
    }


def test_indigenous_languages_of_canada_are_accepted_by_their_iso_639_3_codes() -> None:
    for code in ("crk", "oji", "iku", "moh", "mic"):
        TipSubmission.model_validate(tip_body(language=code, victim_profile={"languages": [code]}))
