"""Events published by disclosure, and the packages it delivers to law-enforcement liaison units.

Packages are not Lantern events: they leave the hotline. They carry an opaque case reference,
never the tip id, and travel on one topic per agency so that broker ACLs can confine each liaison
consumer to its own packages. On the topic a package is sealed to its agency's public key
(``LawEnforcementPackageV3``); opened, it is a ``LawEnforcementPackageV2``. The agency signs its
acknowledgements (``LiaisonAcknowledgementV2``).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from enum import StrEnum
from typing import Annotated, Literal, Self

from pydantic import AwareDatetime, ConfigDict, Field, RootModel, StringConstraints, model_validator
from pydantic_core import PydanticCustomError

from schemas.envelope import Contract, EventBase, utc_now
from schemas.sealed import PersonRelation
from schemas.tip import Age, Answer, Contact, Location, Need, ReporterRole, TraffickingType, VictimProfile
from schemas.triage import IndicatorFinding, Reason, Urgency

AgencyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
CaseReference = Annotated[str, StringConstraints(pattern=r"^LE-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")]
AgencyKeyId = Annotated[str, StringConstraints(pattern=r"^ak1-[A-Za-z0-9_-]{22}$")]
Base64Url = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$")]
PackageSuite = Literal["hpke-base-x25519-hkdf-sha256-aes-256-gcm"]
PACKAGE_SUITE: PackageSuite = "hpke-base-x25519-hkdf-sha256-aes-256-gcm"
"""RFC 9180 base mode: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM."""
# The letters of Canada's statutes and dockets (English, French, Inuktitut syllabics), written out: `\w`
# is Unicode to the services' engine and ASCII to an ECMA-262 reader, which would refuse "procédure".
REFERENCE_LETTERS = r"0-9A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f\u1400-\u167f"
REFERENCE_MARKS = ".,:;()/§'’-"
REFERENCE_PATTERN = (
    rf"^[{REFERENCE_LETTERS} {REFERENCE_MARKS}]*[{REFERENCE_LETTERS}{REFERENCE_MARKS}]"
    rf"[{REFERENCE_LETTERS} {REFERENCE_MARKS}]*$"
)
# Spaces are trimmed before the rules apply, so one character other than a space is required.
ReferencePart = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=REFERENCE_PATTERN)
]


class LegalReference(Contract):
    """What obliges the hotline to report: a statute and its section, and the docket or the order that
    applies it. Two approvals count together only when they name the same reference.
    """

    # The model validator below, as JSON Schema says it: a docket or an order number, not null.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": ["docket"], "properties": {"docket": {"type": "string"}}},
                {"required": ["order_number"], "properties": {"order_number": {"type": "string"}}},
            ]
        }
    )

    statute: ReferencePart
    section: ReferencePart
    docket: ReferencePart | None = None
    order_number: ReferencePart | None = None

    @model_validator(mode="after")
    def _names_a_docket_or_an_order(self) -> Self:
        if self.docket is None and self.order_number is None:
            raise PydanticCustomError(
                "legal_reference_incomplete", "Give the docket or the order number that applies the statute."
            )
        return self

    def same_as(self, other: LegalReference | None) -> bool:
        """The same reference, whatever the case and spacing it was typed with."""
        return other is not None and self.key == other.key

    @property
    def key(self) -> tuple[str, ...]:
        return tuple(" ".join((part or "").casefold().split()) for part in (
            self.statute, self.section, self.docket, self.order_number))  # fmt: skip


class Decision(StrEnum):
    FORWARD = "forward"
    HOLD_FOR_REVIEW = "hold_for_review"
    DO_NOT_FORWARD = "do_not_forward"


class Basis(StrEnum):
    CONSENT = "consent"
    CHILD_PROTECTION = "child_protection"
    IMMINENT_DANGER = "imminent_danger"
    LEGAL_OBLIGATION = "legal_obligation"
    NONE = "none"


MANDATORY_BASES = frozenset({Basis.CHILD_PROTECTION, Basis.IMMINENT_DANGER, Basis.LEGAL_OBLIGATION})


class RecipientKind(StrEnum):
    POLICE = "police"
    CHILD_PROTECTION = "child_protection"
    NATIONAL = "national"


class Recipient(Contract):
    agency_id: AgencyId
    kind: RecipientKind


class PackageField(StrEnum):
    """What a package may carry; the policy says which, per basis and consent.

    ``victim_profile`` and ``needs`` exist to find services: only with law-enforcement consent. The
    last two say who called: only with identity consent.
    """

    SITUATION = "situation"
    MINOR_GROUND = "minor_ground"
    DANGER = "danger"
    LOCATION = "location"
    WHEN = "when"
    SUSPECT_NAMES = "suspect_names"
    VICTIM_NAMES = "victim_names"
    NARRATIVE = "narrative"
    VICTIM_PROFILE = "victim_profile"
    NEEDS = "needs"
    REPORTER_ROLE = "reporter_role"
    CALLER_CONTACT = "caller_contact"


CALLER_IDENTITY = frozenset({PackageField.REPORTER_ROLE, PackageField.CALLER_CONTACT})


class CaseState(StrEnum):
    PENDING_REVIEW = "pending_review"
    FORWARDED = "forwarded"
    DECLINED = "declined"
    NOT_FORWARDED = "not_forwarded"
    CANCELLED = "cancelled"


class ReviewQueue(StrEnum):
    """Where a case waits for a supervisor: urgent ones in the expedited queue, due within minutes."""

    EXPEDITED = "expedited"
    STANDARD = "standard"


ReviewReason = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_.:-]{1,80}$")]


class DisclosureDecidedV1(EventBase):
    """Disclosure decided whether, and on what legal basis, a tip goes to law enforcement."""

    event_type: Literal["disclosure.decided"] = "disclosure.decided"
    schema_version: Literal[1] = 1
    decision: Decision
    basis: Basis
    policy_version: str
    urgency: Urgency
    reasons: list[Reason]
    state: CaseState = Field(description="Where the case stands after this decision.")
    recipients: list[Recipient] = Field(default_factory=list)
    fields: list[PackageField] = Field(default_factory=list, description="What a package may carry.")
    review_due_at: AwareDatetime | None = Field(
        default=None, description="When a supervisor must have reviewed it."
    )
    queue: ReviewQueue | None = Field(default=None, description="The review queue it waits in, if any.")
    review_reasons: list[ReviewReason] = Field(
        default_factory=list, description="What a supervisor is asked to look at: codes, never content."
    )
    triage_revision: int = Field(default=1, ge=1)


class Approver(Contract):
    """A person who decided: the specialist who recorded a ground during a call, or a supervisor."""

    role: Literal["supervisor", "specialist"] = "supervisor"
    person_id: uuid.UUID


ReviewVerdict = Literal[
    "approved", "declined", "approval_recorded", "reviewed_after_forward", "reopened", "kept",
    "changes_forwarded", "consent_confirmed",
]  # fmt: skip


class DisclosureReviewedV1(EventBase):
    """A supervisor approved or declined a forward, or reviewed one that went out at once."""

    event_type: Literal["disclosure.reviewed"] = "disclosure.reviewed"
    schema_version: Literal[1] = 1
    verdict: ReviewVerdict
    basis: Basis
    state: CaseState
    reason: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{1,63}$")


class DisclosureForwardedV1(EventBase):
    """A package left for an agency."""

    event_type: Literal["disclosure.forwarded"] = "disclosure.forwarded"
    schema_version: Literal[1] = 1
    package_id: uuid.UUID
    case_reference: CaseReference
    agency_id: AgencyId
    recipient_kind: RecipientKind
    basis: Basis
    supplementary_to: uuid.UUID | None = None
    fields: list[PackageField]
    seconds_from_receipt: float = Field(ge=0, description="From the tip's receipt to this forward.")


class DisclosureCancelledV1(EventBase):
    """A pending consent-based forward was cancelled because the caller withdrew consent."""

    event_type: Literal["disclosure.cancelled"] = "disclosure.cancelled"
    schema_version: Literal[1] = 1
    basis: Basis
    consent_version: int = Field(ge=1)


class DisclosureReviewFlaggedV1(EventBase):
    """A case waiting for a supervisor reached 75% of its review time (at risk) or its due time (breached)."""

    event_type: Literal["disclosure.review_flagged"] = "disclosure.review_flagged"
    schema_version: Literal[1] = 1
    case_reference: CaseReference
    queue: ReviewQueue
    flag: Literal["at_risk", "breached"]
    due_at: AwareDatetime


class DisclosureAcknowledgedV1(EventBase):
    """An agency's liaison unit acknowledged a package."""

    event_type: Literal["disclosure.acknowledged"] = "disclosure.acknowledged"
    schema_version: Literal[1] = 1
    package_id: uuid.UUID
    agency_id: AgencyId
    acknowledged_at: AwareDatetime


class PackagePerson(Contract):
    name: str
    relation: PersonRelation


class Jurisdiction(Contract):
    """Where a case went when its incident moved: the place and the agencies that now hold it."""

    location: Location
    agencies: list[AgencyId]


class PackageContent(Contract):
    """The permitted fields of a tip, opened for the recipient; absent when not permitted."""

    trafficking_types: list[TraffickingType] | None = None
    indicators: list[IndicatorFinding] | None = None
    minor_involved: Answer | None = None
    victim_age: Age | None = Field(
        default=None, description="The age the assessment recorded for the minor ground."
    )
    imminent_danger: Answer | None = None
    victim_profile: VictimProfile | None = None
    needs: list[Need] | None = None
    location: Location | None = None
    received_at: AwareDatetime | None = None
    narrative: list[str] | None = Field(
        default=None, description="The tip's narrative, then each follow-up's."
    )
    suspects: list[PackagePerson] | None = None
    victims: list[PackagePerson] | None = None
    reporter_role: ReporterRole | None = None
    caller_contact: Contact | None = None


class LawEnforcementPackageV2(Contract):
    """What an agency receives on ``le.referrals.<agency_id>.v1``.

    Version 2 (policy v2): fields per basis, suspects' and victims' names apart, the victim profile and
    needs only with consent, approvers named by person, and where a moved case went.
    """

    message_type: Literal["le.package"] = "le.package"
    schema_version: Literal[2] = 2
    package_id: uuid.UUID
    case_reference: CaseReference
    agency_id: AgencyId
    recipient_kind: RecipientKind
    supplementary_to: uuid.UUID | None = Field(
        default=None, description="The first package of the case, when this one brings new information."
    )
    basis: Basis
    legal_reference: LegalReference | None = None
    policy_version: str
    approved_by: list[Approver] = Field(default_factory=list)
    urgency: Urgency
    issued_at: AwareDatetime = Field(default_factory=utc_now)
    fields: list[PackageField]
    content: PackageContent
    moved_to: Jurisdiction | None = Field(
        default=None, description="On a supplementary package: the case's incident moved and went there."
    )

    @property
    def partition_key(self) -> bytes:
        return self.case_reference.encode()


class LawEnforcementPackageV3(Contract):
    """What travels on ``le.referrals.<agency_id>.v1``: a ``LawEnforcementPackageV2`` sealed to the
    agency's public key, with only what routing and the acknowledgement need in clear.

    In clear: ``package_id`` (the acknowledgement names it), ``case_reference`` (already the record
    key; the acknowledgement names it too), ``agency_id`` (whose package; a liaison unit skips
    another's) and ``key_id`` (which of the agency's keys opens it, across a rotation). Everything
    else (basis, urgency, approvers, issue time, what it carries) is in ``sealed``: HPKE
    (``PACKAGE_SUITE``) of the V2 package's JSON, padded with spaces to a multiple of 1 KiB,
    ``enc`` followed by the ciphertext, base64url; ``info`` is ``sealed_info()``.
    """

    message_type: Literal["le.package"] = "le.package"
    schema_version: Literal[3] = 3
    package_id: uuid.UUID
    case_reference: CaseReference
    agency_id: AgencyId
    key_id: AgencyKeyId
    suite: PackageSuite = PACKAGE_SUITE
    sealed: Base64Url

    @property
    def partition_key(self) -> bytes:
        return self.case_reference.encode()

    def sealed_info(self) -> bytes:
        """What the seal is bound to: the routing fields, so it opens under this header only."""
        routing = self.model_dump(
            mode="json", include={"package_id", "case_reference", "agency_id", "key_id"}
        )
        return b"lantern le.package v3\n" + _canonical(routing)


class LiaisonAcknowledgementV2(Contract):
    """A liaison unit's receipt of a package, on ``le.acknowledgements.v1``, signed by its agency.

    ``signature``: Ed25519, by the agency key ``key_id``, over ``signed_bytes()``. Disclosure counts
    it only when that key is the current key of the package's recipient agency; one unsigned (as
    every version 1 was), forged or signed by another agency ends on the dead-letter topic.
    """

    message_type: Literal["le.acknowledgement"] = "le.acknowledgement"
    schema_version: Literal[1, 2] = Field(default=2, description="1: unsigned, read only to be refused.")
    acknowledgement_id: uuid.UUID = Field(default_factory=uuid.uuid4)
    package_id: uuid.UUID
    case_reference: CaseReference
    agency_id: AgencyId
    acknowledged_at: AwareDatetime = Field(default_factory=utc_now)
    key_id: AgencyKeyId | None = None
    signature: Base64Url | None = Field(default=None, max_length=86)

    @property
    def partition_key(self) -> bytes:
        return self.case_reference.encode()

    def signed_bytes(self) -> bytes:
        """What the agency signs: every other field, as canonical JSON (sorted keys, no spaces, UTF-8,
        the values as this model writes them)."""
        return b"lantern le.acknowledgement v2\n" + _canonical(
            self.model_dump(mode="json", exclude={"signature"})
        )

    @property
    def inbox_id(self) -> uuid.UUID:
        """Its identity for deduplication: every field and the signature, so a forged or altered copy
        under a genuine acknowledgement's id is another message and cannot take its place."""
        signed = self.signed_bytes() + b"\n" + (self.signature or "").encode()
        return uuid.uuid5(self.acknowledgement_id, hashlib.sha256(signed).hexdigest())


def _canonical(value: dict[str, object]) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


DisclosureEvent = Annotated[
    DisclosureDecidedV1
    | DisclosureReviewedV1
    | DisclosureForwardedV1
    | DisclosureCancelledV1
    | DisclosureAcknowledgedV1
    | DisclosureReviewFlaggedV1,
    Field(discriminator="event_type"),
]


class DisclosureMessage(RootModel[DisclosureEvent]):
    """Any event of ``disclosures.v1``, for consumers that follow every case."""

    @property
    def event(self) -> EventBase:
        return self.root
