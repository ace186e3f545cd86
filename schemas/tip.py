"""The tip as reporters and specialists describe it: the vocabulary every service shares."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Self

import pycountry
from pydantic import (
    AfterValidator,
    AwareDatetime,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError

from schemas.envelope import Contract
from schemas.sealed import PersonRelation


class Channel(StrEnum):
    WEB = "web"
    PHONE = "phone"
    EMAIL = "email"
    CHAT = "chat"


class ReporterRole(StrEnum):
    VICTIM = "victim"
    FAMILY_FRIEND = "family_friend"
    SERVICE_PROVIDER = "service_provider"
    LAW_ENFORCEMENT = "law_enforcement"
    COMMUNITY = "community"
    PROFESSIONAL = "professional"
    OTHER = "other"


class Answer(StrEnum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class TraffickingType(StrEnum):
    SEX = "sex"
    LABOUR = "labour"
    DOMESTIC_SERVITUDE = "domestic_servitude"
    ORGAN_REMOVAL = "organ_removal"
    FORCED_MARRIAGE = "forced_marriage"
    OTHER = "other"


class GenderIdentity(StrEnum):
    WOMAN = "woman"
    MAN = "man"
    NON_BINARY = "non_binary"
    TWO_SPIRIT = "two_spirit"
    OTHER = "other"
    UNKNOWN = "unknown"


class StatusInCanada(StrEnum):
    CITIZEN = "citizen"
    PERMANENT_RESIDENT = "permanent_resident"
    TEMPORARY_WORKER = "temporary_worker"
    INTERNATIONAL_STUDENT = "international_student"
    REFUGEE_CLAIMANT = "refugee_claimant"
    NO_STATUS = "no_status"
    UNKNOWN = "unknown"


class Need(StrEnum):
    EMERGENCY_SHELTER = "emergency_shelter"
    TRANSITIONAL_HOUSING = "transitional_housing"
    LONG_TERM_HOUSING = "long_term_housing"
    LEGAL = "legal"
    MEDICAL = "medical"
    MENTAL_HEALTH = "mental_health"
    ADDICTIONS = "addictions"
    IMMIGRATION = "immigration"
    EMPLOYMENT = "employment"
    VICTIM_SERVICES = "victim_services"
    CRISIS_SUPPORT = "crisis_support"
    CULTURALLY_SPECIFIC = "culturally_specific"


class Province(StrEnum):
    AB = "AB"
    BC = "BC"
    MB = "MB"
    NB = "NB"
    NL = "NL"
    NS = "NS"
    NT = "NT"
    NU = "NU"
    ON = "ON"
    PE = "PE"
    QC = "QC"
    SK = "SK"
    YT = "YT"


# JSON Schema formats naming the code lists; the OpenAPI documents replace them with the lists
# themselves (services/common/openapi.py), which the validators below decide.
LANGUAGE_CODE_FORMAT = "iso-639"
COUNTRY_CODE_FORMAT = "iso-3166-alpha-2"


def iso_639(code: str) -> str:
    if pycountry.languages.get(**{"alpha_2" if len(code) == 2 else "alpha_3": code}) is None:
        raise PydanticCustomError("iso_639", "Use an ISO 639-1 or ISO 639-3 language code.")
    return code


def iso_3166(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise PydanticCustomError("iso_3166", "Use an ISO 3166-1 alpha-2 country code.")
    return code


LanguageCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2,3}$"),
    AfterValidator(iso_639),
    Field(json_schema_extra={"format": LANGUAGE_CODE_FORMAT}),
]
CountryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    AfterValidator(iso_3166),
    Field(json_schema_extra={"format": COUNTRY_CODE_FORMAT}),
]
# White space as the validators read it (Unicode White_Space: what pydantic's strip removes and its `\s`
# matches), written out: a document's reader has its own `\s` (ECMA-262's leaves out U+0085 and adds
# U+FEFF), and a pattern must mean the same to the fuzzer and to a client as to the server.
WHITE_SPACE = r"\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Text is trimmed before its length is checked: one character that is not white space is needed, said
# as a pattern so that the published schema allows only what is accepted.
NOT_BLANK = f"[^{WHITE_SPACE}]"
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK)
]
Narrative = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000, pattern=NOT_BLANK)
]
Age = Annotated[int, Field(ge=0, le=120)]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ().-]{3,30}$")]
EMAIL_PATTERN = rf"^[^@{WHITE_SPACE}]+@[^@{WHITE_SPACE}]+$"
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN)]
MAX_LIST = 20


class Location(Contract):
    # A province only in Canada, said in the schema too, so that what the schema allows is accepted.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"properties": {"country": {"const": "CA"}}},
                {"properties": {"province": {"type": "null"}}},
            ]
        }
    )

    country: CountryCode
    province: Province | None = None
    city: ShortText | None = None

    @model_validator(mode="after")
    def _province_only_in_canada(self) -> Self:
        if self.province is not None and self.country != "CA":
            raise ValueError("province is only given for country CA")
        return self


class Assessment(Contract):
    minor_involved: Answer = Answer.UNKNOWN
    imminent_danger: Answer = Answer.UNKNOWN
    victim_age: Age | None = None
    trafficking_types: Annotated[list[TraffickingType], Field(max_length=MAX_LIST)] = Field(
        default_factory=list
    )


def _not_asked(answer: bool | None) -> bool:
    return answer is None


class Consent(Contract):
    """What the caller allowed; anything not stated is not allowed, except statistics.

    ``statistics`` is three-valued: true (yes), false (the caller said no: the tip is left out of
    every statistic) or not asked (absent or null: counted, since seed 003 allows aggregated
    statistics that identify no one without asking each caller). Not asked is written as the
    field's absence, so a reader of the earlier contract (a plain boolean defaulting to false)
    still reads every new event, as not consented; and every earlier event keeps its meaning here.
    """

    law_enforcement: StrictBool = False
    share_identity: StrictBool = False
    service_referral: StrictBool = False
    statistics: StrictBool | None = Field(
        default=None,
        exclude_if=_not_asked,
        description="true: yes; false: the caller said no, the tip is never counted; absent (or null on "
        "input): not asked, counted in aggregated statistics that identify no one.",
    )


class Contact(Contract):
    name: ShortText | None = None
    phone: Phone | None = None
    email: Email | None = None


class NamedPerson(Contract):
    """A person the reporter names: sealed before it leaves intake."""

    name: ShortText
    relation: PersonRelation = PersonRelation.OTHER


class VictimProfile(Contract):
    age: Age | None = None
    gender_identity: GenderIdentity = GenderIdentity.UNKNOWN
    languages: Annotated[list[LanguageCode], Field(max_length=MAX_LIST)] = Field(default_factory=list)
    indigenous: StrictBool | None = None
    status_in_canada: StatusInCanada = StatusInCanada.UNKNOWN


class HeardVia(StrEnum):
    """How the caller heard of the hotline: non-identifying data the hotline keeps (seed 003)."""

    SEARCH_ENGINE = "search_engine"
    SOCIAL_MEDIA = "social_media"
    POSTER_OR_FLYER = "poster_or_flyer"
    MEDIA = "media"
    FRIEND_OR_FAMILY = "friend_or_family"
    SERVICE_PROVIDER = "service_provider"
    POLICE = "police"
    SCHOOL = "school"
    CALLED_BEFORE = "called_before"
    OTHER = "other"
    NOT_ASKED = "not_asked"


MAX_CALL_SECONDS = 24 * 3600


class CallDetails(Contract):
    """What a specialist records about the call itself (phone and chat only): when it started and
    ended, the interpreter's language, whether the caller may be called back or left a message, and
    how they heard of the hotline. Nothing here names anyone.
    """

    # A start and a length rather than a start and an end: a call that ends before it starts cannot
    # be written, so the schema says everything the service checks.
    started_at: AwareDatetime
    duration_seconds: int = Field(ge=0, le=MAX_CALL_SECONDS, description="How long the call lasted.")
    interpreter_language: LanguageCode | None = None
    safe_to_call_back: StrictBool | None = None
    safe_to_leave_message: StrictBool | None = None
    heard_via: HeardVia = HeardVia.NOT_ASKED

    @property
    def ended_at(self) -> datetime:
        try:
            return self.started_at + timedelta(seconds=self.duration_seconds)
        except OverflowError:  # a start in the last day of year 9999: the end is as late as can be
            return datetime.max.replace(tzinfo=self.started_at.tzinfo)


class TipSubmission(Contract):
    """A tip as a channel submits it to intake (``POST /v1/tips``)."""

    channel: Channel = Channel.WEB
    language: LanguageCode = "en"
    reporter_role: ReporterRole = ReporterRole.OTHER
    anonymous: StrictBool = True
    narrative: Narrative
    location: Location
    assessment: Assessment = Assessment()
    consent: Consent = Consent()
    contact: Contact | None = None
    named_persons: Annotated[list[NamedPerson], Field(max_length=MAX_LIST)] = Field(default_factory=list)
    interpreter_used: StrictBool = False
    victim_profile: VictimProfile | None = None
    needs: Annotated[list[Need], Field(max_length=MAX_LIST)] = Field(default_factory=list)
    call: CallDetails | None = Field(
        default=None,
        description="The call as the specialist recorded it (phone and chat; ignored on the web).",
    )


class TipFacts(Contract):
    """The non-identifying facts of a tip that downstream services decide on.

    No narrative, no contact: what identifies a person stays with intake.
    """

    channel: Channel
    language: LanguageCode
    reporter_role: ReporterRole
    anonymous: bool
    location: Location
    outside_canada: bool = Field(description="The situation is outside Canada: refer to an outside agency.")
    assessment: Assessment
    consent: Consent
    victim_profile: VictimProfile | None
    needs: list[Need]

    @classmethod
    def of(cls, tip: TipSubmission) -> TipFacts:
        return cls(
            channel=tip.channel,
            language=tip.language,
            reporter_role=tip.reporter_role,
            anonymous=tip.anonymous,
            location=tip.location,
            outside_canada=tip.location.country != "CA",
            assessment=tip.assessment,
            consent=tip.consent,
            victim_profile=tip.victim_profile,
            needs=tip.needs,
        )
