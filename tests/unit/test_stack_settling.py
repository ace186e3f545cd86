"""`lantern up` gives its services Tansu's hold on a topic just shown, and none on another broker
(issue 18: Tansu names a new topic before it resets its offsets; Apache Kafka needs no hold)."""

from __future__ import annotations

from lantern.stack import settling_seconds
from services.common.settings import KafkaClientSettings


def hold(environ: dict[str, str], runs_tansu: bool) -> float:
    given = settling_seconds(environ, runs_tansu)
    return KafkaClientSettings.model_validate(
        {"LANTERN_KAFKA_SETTLING_SECONDS": given}
    ).kafka_settling_seconds


def test_services_on_the_tansu_lantern_up_runs_hold_a_topic_just_shown_for_a_second() -> None:
    assert hold({}, runs_tansu=True) == 1.0


def test_services_on_a_broker_lantern_up_did_not_start_hold_nothing() -> None:
    assert hold({}, runs_tansu=False) == 0.0


def test_a_hold_given_to_lantern_up_is_the_one_its_services_get() -> None:
    assert hold({"LANTERN_KAFKA_SETTLING_SECONDS": "0"}, runs_tansu=True) == 0.0
    assert hold({"LANTERN_KAFKA_SETTLING_SECONDS": "2.5"}, runs_tansu=False) == 2.5


def test_a_client_told_nothing_holds_nothing() -> None:
    assert KafkaClientSettings().kafka_settling_seconds == 0.0
