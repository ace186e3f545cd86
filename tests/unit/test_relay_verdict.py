"""Which failed sends quarantine their row, which are retried alone, and which count for nothing."""

from aiokafka.errors import (
    CorruptRecordException,
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NotLeaderForPartitionError,
    TopicAuthorizationFailedError,
    UnknownError,
)

from services.common.relay import Reason, Verdict, refused_for_good, verdict


def test_a_record_the_client_refuses_before_sending_is_quarantined_at_once() -> None:
    assert verdict(
        MessageSizeTooLargeError(),
        before_send=True,
        alone=False,
        others_delivered=False,
        attempts=1,
        max_attempts=5,
    ) == (Verdict.QUARANTINE, Reason.REFUSED)


def test_a_broker_refusal_among_other_records_is_retried_alone_since_it_may_have_been_a_neighbours() -> None:
    assert verdict(
        CorruptRecordException(),
        before_send=False,
        alone=False,
        others_delivered=True,
        attempts=1,
        max_attempts=5,
    ) == (Verdict.RETRY_ALONE, None)


def test_a_broker_refusal_of_a_record_sent_alone_is_quarantined() -> None:
    assert verdict(
        TopicAuthorizationFailedError(), before_send=False, alone=True, others_delivered=False, attempts=2,
        max_attempts=5,
    ) == (Verdict.QUARANTINE, Reason.REFUSED)  # fmt: skip


def test_a_transient_failure_counts_only_when_the_broker_took_other_records() -> None:
    for error in (KafkaTimeoutError(), KafkaConnectionError(), NotLeaderForPartitionError(), UnknownError()):
        outage = verdict(
            error, before_send=False, alone=True, others_delivered=False, attempts=9, max_attempts=5
        )
        assert outage == (Verdict.NOT_COUNTED, None), error
        counted = verdict(
            error, before_send=False, alone=True, others_delivered=True, attempts=2, max_attempts=5
        )
        assert counted == (Verdict.RETRY_ALONE, None), error


def test_a_transient_failure_quarantines_its_row_once_its_attempts_are_spent() -> None:
    assert verdict(
        KafkaTimeoutError(), before_send=True, alone=True, others_delivered=True, attempts=5, max_attempts=5
    ) == (Verdict.QUARANTINE, Reason.ATTEMPTS_EXHAUSTED)


def test_our_own_failure_to_serialise_a_row_is_the_rows_and_an_unknown_broker_error_is_not() -> None:
    assert refused_for_good(AttributeError("headers"))
    assert not refused_for_good(UnknownError())
    assert not refused_for_good(KafkaTimeoutError())
