"""Every Kafka topic name Lantern uses, in one place.

The partition key of every topic is the tip id as a string, so all events of one tip stay in order
on one partition.
"""

TIPS_RECEIVED = "tips.received.v1"
TIPS_SUPPLEMENTED = "tips.supplemented.v1"
CONSENTS = "consents.v1"
TIPS_TRIAGED = "tips.triaged.v1"
RESPONSE_PLANS = "responseplans.v1"
DISCLOSURES = "disclosures.v1"
REFERRALS = "referrals.v1"
# Liaison units publish their receipts here; packages go to each agency's own topic.
LE_ACKNOWLEDGEMENTS = "le.acknowledgements.v1"
# Disclosure's audit chain head after every append (sequence and link only), one partition key.
AUDIT_HEADS = "audit.heads.v1"

EVENT_TOPICS: tuple[str, ...] = (
    TIPS_RECEIVED, TIPS_SUPPLEMENTED, CONSENTS, TIPS_TRIAGED, RESPONSE_PLANS, DISCLOSURES, REFERRALS,
)  # fmt: skip


AGENCY_TOPIC_PREFIX, AGENCY_TOPIC_SUFFIX = "le.referrals.", ".v1"


def agency_topic(agency_id: str) -> str:
    """The topic of one agency's packages: broker ACLs can confine its liaison unit to it."""
    return f"{AGENCY_TOPIC_PREFIX}{agency_id}{AGENCY_TOPIC_SUFFIX}"


# Who may write each topic: the services whose signature a consumer accepts on it. A message signed
# by anyone else, or by nobody, is dead-lettered as `unauthenticated` before it is read.
# Acknowledgements are signed by the liaison unit's agency key, not by a service's: the consumer
# that reads them checks that signature against the package's recipient, so the runtime's check of
# service signatures passes them through.
SIGNED_BY_AGENCY = "<agency>"
PRODUCERS: dict[str, tuple[str, ...]] = {
    TIPS_RECEIVED: ("intake",),
    TIPS_SUPPLEMENTED: ("intake",),
    CONSENTS: ("intake",),
    TIPS_TRIAGED: ("triage",),
    RESPONSE_PLANS: ("triage",),
    DISCLOSURES: ("disclosure",),
    REFERRALS: ("referral",),
    LE_ACKNOWLEDGEMENTS: (SIGNED_BY_AGENCY,),
    AUDIT_HEADS: ("disclosure",),
}
AGENCY_PACKAGE_PRODUCERS: tuple[str, ...] = ("disclosure",)
# Who reads each topic as a consumer group (the group is the service's name); a contract test holds
# this to each service's wiring, and the AsyncAPI document (``schemas/asyncapi.py``) is built from it.
LIAISON_UNIT = "<liaison unit>"
CONSUMERS: dict[str, tuple[str, ...]] = {
    TIPS_RECEIVED: ("triage", "disclosure", "monitoring"),
    TIPS_SUPPLEMENTED: ("triage", "disclosure"),
    CONSENTS: ("disclosure", "monitoring", "referral"),
    TIPS_TRIAGED: ("disclosure", "monitoring", "referral"),
    RESPONSE_PLANS: ("monitoring",),
    DISCLOSURES: ("monitoring",),
    REFERRALS: (),
    LE_ACKNOWLEDGEMENTS: ("disclosure",),
    AUDIT_HEADS: (),
}
AGENCY_PACKAGE_CONSUMERS: tuple[str, ...] = (LIAISON_UNIT,)


def producers_of(topic: str) -> tuple[str, ...]:
    """The producers allowed on ``topic``; none for a topic Lantern does not know."""
    agency = topic.removeprefix(AGENCY_TOPIC_PREFIX).removesuffix(AGENCY_TOPIC_SUFFIX)
    if agency and f"{AGENCY_TOPIC_PREFIX}{agency}{AGENCY_TOPIC_SUFFIX}" == topic and "." not in agency:
        return AGENCY_PACKAGE_PRODUCERS
    return PRODUCERS.get(topic, ())


def dead_letter_topic(topic: str) -> str:
    """Name the dead-letter topic of ``topic``."""
    return f"{topic}.DLT"


CONSUMED_TOPICS: tuple[str, ...] = (*EVENT_TOPICS, LE_ACKNOWLEDGEMENTS)
ALL_TOPICS: tuple[str, ...] = (
    CONSUMED_TOPICS + tuple(dead_letter_topic(t) for t in CONSUMED_TOPICS) + (AUDIT_HEADS,)
)
