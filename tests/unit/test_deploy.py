"""The deployment is generated from, and checked against, the code: topics' consumers and producers,
Kafka ACLs, topic settings, the Compose file and the alert rules."""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from jsonschema import Draft7Validator
from prometheus_client import generate_latest

from lantern.deploy import agencies, kafka_acls, liaison_principal, render_acls, service_principal
from schemas import topics
from services.common import metrics, telemetry
from services.common.roles import SERVICES, UNSEALING
from services.common.settings import SECRETS_DIR, KafkaClientSettings, ServiceSettings
from services.disclosure.settings import generate_key_text

ROOT = Path(__file__).resolve().parents[2]
KAFKA_CLIENT = {field.alias for field in KafkaClientSettings.model_fields.values()}


class RecordingRuntime:
    """Just enough of a runtime for a service's wiring to say what it subscribes to."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.topics: set[str] = set()
        self.keystore = self.transactions = self.pool = self.kafka_security = object()

    def consume(self, topic: str, *_args: Any, **_kwargs: Any) -> None:
        self.topics.add(topic)

    def background(self, *_args: Any) -> None:
        pass


def subscriptions(service: str, settings: ServiceSettings, monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The topics ``service``'s composition root subscribes to, read from the wiring it hands the runtime."""
    module = importlib.import_module(f"services.{service}.app")
    if not hasattr(module, "build_service_app"):
        return set()  # a web application (the workbench): no consumer, no topic
    wired: list[Callable[[Any], None]] = []

    def capture(_spec: Any, _settings: Any, wire: Callable[[Any], None], **_kwargs: Any) -> Any:
        wired.append(wire)
        from fastapi import FastAPI

        return FastAPI()

    monkeypatch.setattr(module, "build_service_app", capture)
    module.build_app(settings)
    runtime = RecordingRuntime(settings)
    wired[0](runtime)
    return runtime.topics


def test_each_service_subscribes_to_exactly_the_topics_the_consumer_table_gives_it(tmp_path, monkeypatch):
    monkeypatch.setenv("LANTERN_AUDIT_KEY", generate_key_text())
    monkeypatch.setenv("LANTERN_AUDIT_WITNESS_FILE", str(tmp_path / "witness.jsonl"))
    settings = ServiceSettings(
        DATABASE_URL="postgresql://nobody@127.0.0.1/none", KAFKA_BOOTSTRAP_SERVERS="x:1"
    )
    for service in SERVICES:
        declared = {topic for topic, consumers in topics.CONSUMERS.items() if service in consumers}
        assert subscriptions(service, settings, monkeypatch) == declared, service


def acls_by(principal: str) -> set[tuple[str, str, str]]:
    return {
        (a.resource_type, a.name, a.operation) for a in kafka_acls(agencies()) if a.principal == principal
    }


def test_each_topic_is_written_only_by_the_principals_the_code_declares():
    every = kafka_acls(agencies())
    writers: dict[str, set[str]] = {}
    for acl in every:
        if acl.operation == "Write":
            writers.setdefault(acl.name, set()).add(acl.principal)
    liaisons = {liaison_principal(agency) for agency in agencies()}
    for topic in (*topics.CONSUMED_TOPICS, topics.AUDIT_HEADS, *(topics.agency_topic(a) for a in agencies())):
        declared = {
            service_principal(p) for p in topics.producers_of(topic) if p != topics.SIGNED_BY_AGENCY
        } | (liaisons if topics.SIGNED_BY_AGENCY in topics.producers_of(topic) else set())
        assert writers.get(topic, set()) == declared, topic
        consumers = topics.CONSUMERS.get(topic, ())
        dead_letters = topics.dead_letter_topic(topic)
        assert writers.get(dead_letters, set()) == {service_principal(c) for c in consumers}, dead_letters
    assert topics.LE_ACKNOWLEDGEMENTS in {a.name for a in every if a.principal in liaisons}
    assert set(writers) <= {*topics.ALL_TOPICS, *(topics.agency_topic(a) for a in agencies())}


def test_no_principal_reads_a_topic_or_group_it_does_not_consume():
    for service in SERVICES:
        reads = {
            (kind, name)
            for kind, name, operation in acls_by(service_principal(service))
            if operation == "Read"
        }
        consumed = {topic for topic, consumers in topics.CONSUMERS.items() if service in consumers}
        assert reads == {("Topic", t) for t in consumed} | ({("Group", service)} if consumed else set())


def test_each_liaison_unit_sees_only_its_own_topic_and_group_and_writes_only_acknowledgements():
    assert len(agencies()) > 1
    for agency in agencies():
        principal = liaison_principal(agency)
        assert acls_by(principal) == {
            ("Topic", topics.agency_topic(agency), "Read"),
            ("Group", principal, "Read"),
            ("Topic", topics.LE_ACKNOWLEDGEMENTS, "Write"),
        }


def test_no_acl_is_a_wildcard_a_prefix_or_all_operations():
    for acl in kafka_acls(agencies()):
        assert acl.operation in {"Read", "Write", "Describe"}
        assert "*" not in acl.name and acl.name
    assert all(
        "--resource-pattern-type literal" in line
        for line in render_acls(kafka_acls(agencies()), "kafka-acls").splitlines()
    )


def test_the_committed_acl_script_is_what_the_code_generates():
    committed = (ROOT / "deploy/kafka/acls.sh").read_text().splitlines()
    assert [line for line in committed if not line.startswith("#")] == render_acls(
        kafka_acls(agencies()), "kafka-acls"
    ).splitlines(), "run: lantern deploy acls and commit deploy/kafka/acls.sh"


def test_an_agency_topic_keeps_a_package_through_deadline_and_escalation_and_no_longer_than_the_ceiling():
    kept = topics.settings_of(topics.agency_topic(agencies()[0]))
    assert kept.retention >= topics.PACKAGE_ACKNOWLEDGEMENT_DEADLINE + topics.PACKAGE_ESCALATION
    assert kept.longest_kept <= topics.PACKAGE_RETENTION_CEILING


def test_every_topic_has_settings_and_production_keeps_two_in_sync_replicas():
    for topic in topics.ALL_TOPICS:
        settings = topics.settings_of(topic)
        assert settings is not topics.DEFAULT_SETTINGS, topic
        assert settings.configs(3)["min.insync.replicas"] == "2"
        assert settings.configs(1)["min.insync.replicas"] == "1"


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_compose_file_is_valid_against_the_compose_specification():
    schema = json.loads((ROOT / "tests/data/schemas/compose-spec.json").read_text())
    errors = [f"{e.json_path}: {e.message}" for e in Draft7Validator(schema).iter_errors(compose())]
    assert errors == []


def test_the_compose_file_holds_no_secret_and_runs_the_services_read_only_as_non_root():
    text = (ROOT / "docker-compose.yml").read_text()
    assert not re.search(r"(PASSWORD|SECRET|_KEK|AUDIT_KEY)\s*:\s*[\"']?[A-Za-z0-9+/_-]{12,}", text)
    services = compose()["services"]
    for name in SERVICES:
        service = services[name]
        assert service["read_only"] is True and service["user"] == "10001:10001"
        assert service["cap_drop"] == ["ALL"]
    for broker in ("kafka-1", "kafka-2", "kafka-3"):
        environment = services[broker]["environment"]
        assert environment["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].count("SASL_SSL") == 2
        assert environment["KAFKA_MIN_INSYNC_REPLICAS"] == "2"


def exported_metric_names() -> set[str]:
    telemetry.meter_provider("deploy-test")
    metrics.plan_flags.add(0, {"flag": "breached"})
    metrics.review_flags.add(0, {"queue": "standard", "flag": "breached"})
    metrics.dead_letters.add(0, {"service": "x", "topic": "x", "reason": "x"})
    metrics.events_handled.add(0, {"service": "x", "topic": "x", "outcome": "handled"})
    metrics.time_to_forward.record(0, {"basis": "consent"})
    metrics.time_to_triage.record(0, {"urgency": "urgent"})
    metrics.unauthenticated_events.add(0, {"service": "x", "topic": "x"})
    metrics.disclosure_decisions.add(0, {"decision": "x", "basis": "x"})
    metrics.referral_matches.add(0, {"status": "x"})
    telemetry.outbox_backlog.setdefault("deploy-test", 0)
    telemetry.consumer_lag.setdefault(("deploy-test", "x"), 0)
    telemetry.outbox_oldest_seconds.setdefault("deploy-test", 0.0)
    metrics.outbox_quarantined_now.setdefault("deploy-test", 0)
    metrics.audit_chain_verified.setdefault("deploy-test", 1)
    metrics.directory_restriction_requests.setdefault("deploy-test", 0)
    metrics.directory_restriction_burst.setdefault("deploy-test", 0)
    metrics.audit_anchor_runs.add(0, {"outcome": "refused"})
    metrics.tips_received.add(0, {"channel": "web"})
    lines = generate_latest().decode().splitlines()
    return {re.split(r"[{ ]", line)[0] for line in lines if line.startswith("lantern_")}


def selectors(node: Any) -> set[str]:
    """The metric names a parsed PromQL expression reads."""
    found: set[str] = set()
    if isinstance(node, promql_parser.VectorSelector):
        found.add(node.name)
    for attribute in ("expr", "lhs", "rhs", "vector_selector", "param"):
        child = getattr(node, attribute, None)
        if child is not None:
            found |= selectors(child)
    for child in getattr(node, "args", None) or ():
        found |= selectors(child)
    return found


def test_every_alert_rule_parses_and_reads_only_metrics_the_services_export():
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    exported = exported_metric_names()
    names = {rule["alert"] for rule in rules}
    for rule in rules:
        read = selectors(promql_parser.parse(rule["expr"]))
        assert read and read <= exported, (rule["alert"], read - exported)
        assert rule["labels"]["severity"] in {"page", "ticket"}
    assert {
        "ResponsePlanDeadlineBreached",
        "ReviewQueueOverdue",
        "ConsumerLagGrowing",
        "DeadLettersGrowing",
        "OutboxRelayStalled",
        "LiaisonNotAcknowledging",
        "AuditVerifyFailing",
        "DirectoryRestrictionBurst",
    } <= names


def dashboard_queries() -> list[str]:
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/lantern.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_every_dashboard_query_parses_and_reads_only_metrics_the_services_export():
    exported = exported_metric_names()
    queries = dashboard_queries()
    assert queries
    for query in queries:
        read = selectors(promql_parser.parse(query))
        assert read and read <= exported, (query, read - exported)
    # Each alert's metrics can be seen on the dashboard when it fires.
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    shown = set().union(*(selectors(promql_parser.parse(query)) for query in queries))
    for rule in rules:
        assert selectors(promql_parser.parse(rule["expr"])) <= shown, rule["alert"]


def test_grafana_is_provisioned_with_the_prometheus_of_the_compose_file_and_the_dashboard():
    grafana = ROOT / "deploy/grafana"
    (source,) = yaml.safe_load((grafana / "provisioning/datasources/prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090" and "prometheus" in compose()["services"]
    dashboard = json.loads((grafana / "dashboards/lantern.json").read_text())
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"], panel["title"]
    (provider,) = yaml.safe_load((grafana / "provisioning/dashboards/lantern.yml").read_text())["providers"]
    mounts = dict(volume.split(":")[:2] for volume in compose()["services"]["grafana"]["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == provider["options"]["path"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"


def test_the_liaison_alert_waits_exactly_the_acknowledgement_deadline():
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())["groups"][0]["rules"]
    liaison = next(rule for rule in rules if rule["alert"] == "LiaisonNotAcknowledging")
    hours = int(topics.PACKAGE_ACKNOWLEDGEMENT_DEADLINE.total_seconds() // 3600)
    assert liaison["expr"].count(f"[{hours}h]") == 2


# Settings a deployment never sets: an inline key whose _FILE twin is used, and the tests' several
# services in one process.
NOT_DEPLOYED = {"LANTERN_KEK", "LANTERN_AUDIT_KEY", "LANTERN_SERVICE_DATABASE_URLS"}
SETTINGS_CLASSES = {
    "intake": "services.intake.settings:IntakeSettings",
    "triage": "services.triage.settings:TriageSettings",
    "disclosure": "services.disclosure.settings:DisclosureSettings",
    "referral": "services.referral.settings:ReferralSettings",
    "monitoring": "services.monitoring.settings:MonitoringSettings",
    "workbench": "services.workbench.settings:WorkbenchSettings",
}
# Read as a file's path: the file must be mounted where the setting points.
PATH_SETTINGS = re.compile(r"_FILE$|^LANTERN_ONCALL_ROSTER$")


def service_settings() -> dict[str, set[str]]:
    """Every setting each service reads: its settings class's fields, and the directory any of them
    may be read from as a file (how DATABASE_URL arrives with its password)."""
    assert set(SETTINGS_CLASSES) == set(SERVICES)
    read: dict[str, set[str]] = {}
    for service, path in SETTINGS_CLASSES.items():
        module, name = path.split(":")
        settings_class = getattr(importlib.import_module(module), name)
        aliases = {field.alias for field in settings_class.model_fields.values()} - NOT_DEPLOYED
        if service not in UNSEALING:
            # Read only to warn that it is not used: a service that unseals nothing never gets the KEK.
            aliases -= {"LANTERN_KEK_FILE"}
        read[service] = aliases | {SECRETS_DIR}
    return read


def compose_given(service: str) -> tuple[dict[str, str], set[str]]:
    """What the compose file gives ``service``: its environment, and the files mounted for it."""
    definition = compose()["services"][service]
    environment = {name: str(value) for name, value in definition["environment"].items()}
    mounted = {
        f"/run/secrets/{secret['target'] if isinstance(secret, dict) else secret}"
        for secret in definition.get("secrets", [])
    }
    mounted |= {volume.split(":")[1] for volume in definition.get("volumes", [])}
    return environment, mounted


def kubernetes_given(service: str, kind: str = "Deployment") -> tuple[dict[str, str], set[str]]:
    """What deploy/k8s gives ``service``'s container: its environment (its own and the ConfigMaps'
    it takes whole), and the files of the volumes it mounts (items by name, a claim as a directory)."""
    from tests.unit.test_k8s import of_kind, pod_spec

    configs = of_kind("ConfigMap")
    pod = pod_spec(of_kind(kind)[service])
    assert pod is not None
    (container,) = pod["containers"]
    environment = {
        name: str(value)
        for source in container.get("envFrom", [])
        for name, value in configs[source["configMapRef"]["name"]]["data"].items()
    }
    environment |= {variable["name"]: variable["value"] for variable in container.get("env", [])}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    mounted: set[str] = set()
    for mount in container["volumeMounts"]:
        volume = volumes[mount["name"]]
        source = volume.get("secret") or volume.get("configMap")
        if source is None:
            mounted.add(mount["mountPath"])
        else:
            mounted |= {f"{mount['mountPath']}/{item['path']}" for item in source["items"]}
    return environment, mounted


def missing(read: set[str], environment: dict[str, str], mounted: set[str]) -> set[str]:
    """The settings neither in ``environment`` nor a file in its secrets directory, and the path
    settings whose file is not mounted."""
    directory = environment.get(SECRETS_DIR)
    as_files = {path.rsplit("/", 1)[1] for path in mounted if directory and path.startswith(f"{directory}/")}
    absent = read - set(environment) - as_files
    for name in read & set(environment):
        if PATH_SETTINGS.search(name):
            path = environment[name]
            if path not in mounted and not any(path.startswith(f"{m}/") for m in mounted):
                absent.add(f"{name} (nothing mounted at {path})")
    return absent


def test_every_setting_a_service_reads_is_set_for_it_in_the_compose_file():
    for service, read in service_settings().items():
        environment, mounted = compose_given(service)
        assert missing(read, environment, mounted) == set(), service
        if service not in UNSEALING:
            assert "LANTERN_KEK_FILE" not in environment and "/run/secrets/kek" not in mounted, service


def test_every_setting_a_service_reads_is_set_for_it_in_the_kubernetes_manifests():
    for service, read in service_settings().items():
        environment, mounted = kubernetes_given(service)
        assert missing(read, environment, mounted) == set(), service
        if service not in UNSEALING:
            assert "LANTERN_KEK_FILE" not in environment and "/run/secrets/kek" not in mounted, service


def test_producers_on_apache_kafka_hold_no_write_to_a_topic_just_shown_in_both():
    for service, read in service_settings().items():
        if "LANTERN_KAFKA_SETTLING_SECONDS" in read:
            for environment, _mounted in (compose_given(service), kubernetes_given(service)):
                assert environment["LANTERN_KAFKA_SETTLING_SECONDS"] == "0", service


def test_the_deploy_job_gets_the_owners_url_and_its_kafka_credentials_in_both():
    from tests.unit.test_k8s import containers, of_kind

    needed = {"DATABASE_URL", *KAFKA_CLIENT, "KAFKA_BOOTSTRAP_SERVERS", SECRETS_DIR}
    assert missing(needed, *compose_given("setup")) == set()
    assert missing(needed, *kubernetes_given("lantern-setup", "Job")) == set()
    (job,) = containers(of_kind("Job")["lantern-setup"])
    assert job["command"] == compose()["services"]["setup"]["command"]


def public_directory_settings() -> set[str]:
    from services.referral.settings import PublicDirectorySettings

    return {field.alias for field in PublicDirectorySettings.model_fields.values()} | {SECRETS_DIR}


def test_every_setting_a_service_reads_is_in_the_table_of_docs_deploy():
    table = (ROOT / "docs/deploy.md").read_text()
    for aliases in [*service_settings().values(), public_directory_settings()]:
        for alias in aliases | NOT_DEPLOYED:
            assert f"| `{alias}` |" in table, alias


def test_the_public_directory_gets_every_setting_it_reads_and_nothing_of_the_broker_or_the_keys():
    for environment, mounted in (compose_given("referral-public"), kubernetes_given("referral-public")):
        assert missing(public_directory_settings(), environment, mounted) == set()
        given = set(environment) | {path.rsplit("/", 1)[1] for path in mounted}
        assert not given & {"KAFKA_BOOTSTRAP_SERVERS", "LANTERN_KEK_FILE", "signing-key", "kafka-password"}
    assert compose()["services"]["referral-public"]["secrets"] == [
        {"source": "directory-database-url", "target": "DATABASE_URL"}
    ]
