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


def agency_topic(agency_id: str) -> str:
    """The topic of one agency's packages: broker ACLs can confine its liaison unit to it."""
    return f"le.referrals.{agency_id}.v1"


def dead_letter_topic(topic: str) -> str:
    """Name the dead-letter topic of ``topic``."""
    return f"{topic}.DLT"


CONSUMED_TOPICS: tuple[str, ...] = (*EVENT_TOPICS, LE_ACKNOWLEDGEMENTS)
ALL_TOPICS: tuple[str, ...] = (
    CONSUMED_TOPICS + tuple(dead_letter_topic(t) for t in CONSUMED_TOPICS) + (AUDIT_HEADS,)
)
