"""Every Kafka topic name Lantern uses, who writes and reads each, and how the broker keeps it.

The partition key of every topic is the tip id as a string, so all events of one tip stay in order
on one partition. The deployment (`lantern deploy acls`, `lantern deploy topics`) is generated from
these tables, so what the code does and what the broker allows cannot drift apart.
"""

from dataclasses import dataclass
from datetime import timedelta

TIPS_RECEIVED = "tips.received.v1"
TIPS_SUPPLEMENTED = "tips.supplemented.v1"
CONSENTS = "consents.v1"
TIPS_TRIAGED = "tips.triaged.v1"
RESPONSE_PLANS = "responseplans.v1"
DISCLOSURES = "disclosures.v1"
REFERRALS = "referrals.v1"
# Liaison units publish their receipts here; packages go to each agency's own topic.
LE_ACKNOWLEDGEMENTS = "le.acknowledgements.v1"
# Disclosure's audit chain head after each event or request that appended (sequence and link only), one partition key.
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
# Who reads each topic as a consumer group (the group is the service's name); tests hold this to each
# service's wiring, the AsyncAPI document (``schemas/asyncapi.py``) and the Kafka ACLs
# (``lantern deploy acls``) are built from it. Every agency topic is read by its liaison unit only.
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


def agency_of(topic: str) -> str | None:
    """The agency whose packages ``topic`` carries, or None for any other topic."""
    agency = topic.removeprefix(AGENCY_TOPIC_PREFIX).removesuffix(AGENCY_TOPIC_SUFFIX)
    if agency and f"{AGENCY_TOPIC_PREFIX}{agency}{AGENCY_TOPIC_SUFFIX}" == topic and "." not in agency:
        return agency
    return None


def producers_of(topic: str) -> tuple[str, ...]:
    """The producers allowed on ``topic``; none for a topic Lantern does not know."""
    if agency_of(topic) is not None:
        return AGENCY_PACKAGE_PRODUCERS
    return PRODUCERS.get(topic, ())


def dead_letter_topic(topic: str) -> str:
    """Name the dead-letter topic of ``topic``."""
    return f"{topic}.DLT"


LIAISON = LIAISON_UNIT  # the name lantern/deploy.py uses for an agency's liaison principal


def consumers_of(topic: str) -> tuple[str, ...]:
    """The consumer groups that read ``topic``; a liaison unit for an agency topic."""
    if agency_of(topic) is not None:
        return AGENCY_PACKAGE_CONSUMERS
    return CONSUMERS.get(topic, ())


CONSUMED_TOPICS: tuple[str, ...] = (*EVENT_TOPICS, LE_ACKNOWLEDGEMENTS)
ALL_TOPICS: tuple[str, ...] = (
    CONSUMED_TOPICS + tuple(dead_letter_topic(t) for t in CONSUMED_TOPICS) + (AUDIT_HEADS,)
)


# How long a liaison unit has to acknowledge a package, and how long after that the hotline escalates
# (pages, then phones the agency) before giving up on the broker copy. A package must still be on its
# agency topic throughout, and no longer than the retention policy allows (it is sealed, but it is
# the one copy outside Lantern's database that shredding cannot reach).
PACKAGE_ACKNOWLEDGEMENT_DEADLINE = timedelta(hours=24)
PACKAGE_ESCALATION = timedelta(hours=48)
PACKAGE_RETENTION_CEILING = timedelta(days=7)


@dataclass(frozen=True)
class TopicSettings:
    """How the broker keeps one topic: partitions, replicas (production), retention and cleanup."""

    partitions: int
    retention: timedelta
    segment: timedelta
    """A record is deleted only with its whole segment: it may outlive ``retention`` by this much."""
    replication: int = 3
    cleanup: str = "delete"

    @property
    def longest_kept(self) -> timedelta:
        return self.retention + self.segment

    def configs(self, replication: int) -> dict[str, str]:
        """Topic configuration for a cluster where the topic has ``replication`` replicas."""
        return {
            "cleanup.policy": self.cleanup,
            "retention.ms": str(int(self.retention.total_seconds() * 1000)),
            "segment.ms": str(int(self.segment.total_seconds() * 1000)),
            # With three replicas a write survives one broker lost, and a second loss stops writes
            # (acks=all) rather than keeping a single copy.
            "min.insync.replicas": str(min(2, replication)),
        }


# Events are kept long enough for a consumer stopped over a long weekend to catch up; the outbox and
# inbox in PostgreSQL are the record, the broker only carries it. A dead letter waits for a person.
EVENT_SETTINGS = TopicSettings(partitions=3, retention=timedelta(days=14), segment=timedelta(days=1))
DEAD_LETTER_SETTINGS = TopicSettings(partitions=3, retention=timedelta(days=30), segment=timedelta(days=1))
AGENCY_SETTINGS = TopicSettings(partitions=1, retention=timedelta(days=6), segment=timedelta(hours=6))
TOPIC_SETTINGS: dict[str, TopicSettings] = {
    **{topic: EVENT_SETTINGS for topic in CONSUMED_TOPICS},
    **{dead_letter_topic(topic): DEAD_LETTER_SETTINGS for topic in CONSUMED_TOPICS},
    # One partition key (the chain), so one partition; heads say nothing about a tip.
    AUDIT_HEADS: TopicSettings(partitions=1, retention=timedelta(days=90), segment=timedelta(days=1)),
}
# A topic Lantern does not know (a benchmark's, a test's): the broker's defaults but for partitions.
DEFAULT_SETTINGS = TopicSettings(partitions=3, retention=timedelta(days=7), segment=timedelta(days=1))


def settings_of(topic: str) -> TopicSettings:
    """How the broker keeps ``topic``: an agency topic as every other one."""
    if agency_of(topic) is not None:
        return AGENCY_SETTINGS
    return TOPIC_SETTINGS.get(topic, DEFAULT_SETTINGS)
