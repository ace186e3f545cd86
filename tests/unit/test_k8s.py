"""deploy/k8s, read without a cluster: rendered as kustomize would (the files each kustomization.yaml
lists, its namespace and image), validated against Kubernetes' own schemas (kubernetes-validate), and
checked for what the issue asks: restricted pods, Secrets by reference, policies that open only what
each service needs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from services.common.roles import SERVICES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"
KUBERNETES = "1.37"
CLUSTER_SCOPED = {"Namespace"}


def render(directory: Path = K8S) -> list[dict[str, Any]]:
    """The documents `kubectl kustomize directory` prints, for the transformers this tree uses."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - {"apiVersion", "kind", "namespace", "labels", "resources", "images"}
    assert not unknown, (
        f"render() does not apply {unknown}: teach it, or the test checks less than is deployed"
    )
    documents: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        path = directory / resource
        if path.is_dir():
            documents += render(path)
        else:
            documents += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for document in documents:
        if "namespace" in kustomization and document["kind"] not in CLUSTER_SCOPED:
            document["metadata"]["namespace"] = kustomization["namespace"]
        for label in kustomization.get("labels", []):
            document["metadata"].setdefault("labels", {}).update(label["pairs"])
        for container in containers(document):
            for image in kustomization.get("images", []):
                name, _, tag = container["image"].partition(":")
                if name == image["name"]:
                    container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
    return documents


def pod_spec(document: dict[str, Any]) -> dict[str, Any] | None:
    if document["kind"] in {"Deployment", "Job", "StatefulSet", "DaemonSet"}:
        spec: dict[str, Any] = document["spec"]["template"]["spec"]
        return spec
    return None


def containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(document)
    return [*spec.get("initContainers", []), *spec["containers"]] if spec else []


def of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in render() if d["kind"] == kind}


def test_every_manifest_is_valid_against_the_kubernetes_schemas():
    documents = render()
    assert documents
    for document in documents:
        try:
            kubernetes_validate.validate(document, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{document['kind']}/{document['metadata']['name']}: {error.message} at {error.path}")


# The public referral directory: referral's image and package with another entry point.
PUBLIC_DIRECTORY = "referral-public"
MODULES = {
    **{service: f"services.{service}" for service in SERVICES},
    PUBLIC_DIRECTORY: "services.referral.public",
}


def test_there_is_a_deployment_and_a_service_for_each_service_and_the_workbench():
    deployments, services = of_kind("Deployment"), of_kind("Service")
    assert set(deployments) == set(MODULES) == set(services)
    for name, deployment in deployments.items():
        (container,) = containers(deployment)
        assert container["command"] == ["python", "-m", MODULES[name]]
        assert container["image"] == "registry.example.org/lantern:0.1.0"
        assert {p["name"] for p in services[name]["spec"]["ports"]} == {"http", "operations"}
    # One writer of the audit witness file at a time.
    assert deployments["disclosure"]["spec"]["replicas"] == 1
    assert deployments["disclosure"]["spec"]["strategy"]["type"] == "Recreate"


def test_the_namespace_enforces_the_restricted_pod_security_standard():
    (namespace,) = of_kind("Namespace").values()
    labels = namespace["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
    assert {d["metadata"].get("namespace") for d in render() if d["kind"] != "Namespace"} == {
        namespace["metadata"]["name"]
    }


ALLOWED_VOLUMES = {"configMap", "secret", "emptyDir", "persistentVolumeClaim", "projected", "downwardAPI"}


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_every_pod_meets_the_restricted_standard_and_writes_only_where_a_volume_is(kind):
    assert of_kind(kind), kind
    for name, document in of_kind(kind).items():
        spec = pod_spec(document)
        assert spec is not None
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(spec), name
        for volume in spec["volumes"]:
            assert set(volume) - {"name"} <= ALLOWED_VOLUMES, (name, volume)
        for container in containers(document):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True and context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context["seccompProfile"]["type"] == "RuntimeDefault", name
            assert {"/tmp"} <= {m["mountPath"] for m in container["volumeMounts"]}, name
            requests = container["resources"]["requests"]
            assert set(requests) == {"cpu", "memory"} and container["resources"]["limits"]["memory"], name


SECRET_LOOKING = re.compile(r"(password|secret|token|key)=|-----BEGIN|postgres(ql)?://[^@\s]+:[^@\s]+@", re.I)


def test_secrets_are_only_referenced_by_name_never_written_in_the_manifests():
    documents = render()
    assert not [d for d in documents if d["kind"] == "Secret"]
    for document in documents:
        for container in containers(document):
            for variable in container.get("env", []):
                assert "value" in variable and not SECRET_LOOKING.search(variable["value"]), variable
    for config in of_kind("ConfigMap").values():
        for key, value in config["data"].items():
            assert not SECRET_LOOKING.search(value), key
    for name, document in {**of_kind("Deployment"), **of_kind("Job")}.items():
        spec = pod_spec(document)
        assert spec is not None
        (secrets,) = [v["secret"] for v in spec["volumes"] if "secret" in v]
        assert (
            secrets["secretName"] == f"lantern-{document['metadata']['labels']['app.kubernetes.io/name']}"
        ), name
        assert secrets["defaultMode"] == 0o440


def policies() -> dict[str, dict[str, Any]]:
    return {name: policy["spec"] for name, policy in of_kind("NetworkPolicy").items()}


def selected(spec: dict[str, Any]) -> str | None:
    labels = spec["podSelector"].get("matchLabels", {})
    name: str | None = labels.get("app.kubernetes.io/name")
    return name


def peers(rules: list[dict[str, Any]], direction: str) -> list[dict[str, Any]]:
    return [peer for rule in rules for peer in rule.get(direction, [])]


def namespace_of(peer: dict[str, Any]) -> str | None:
    name: str | None = (
        peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
    )
    return name


def test_nothing_moves_in_the_namespace_unless_a_policy_allows_it():
    default = policies()["default-deny"]
    assert default["podSelector"] == {} and set(default["policyTypes"]) == {"Ingress", "Egress"}
    assert default["ingress"] == [] and default["egress"] == []
    covered = {selected(spec) for spec in policies().values()}
    assert set(MODULES) | {"setup"} <= covered


def test_only_intake_and_the_public_directory_are_reached_from_the_internet_and_only_the_workbench_from_staff():
    for spec in policies().values():
        namespaces = {namespace_of(peer) for peer in peers(spec.get("ingress", []), "from")}
        if "ingress-public" in namespaces:
            assert selected(spec) in {"intake", PUBLIC_DIRECTORY}
        if "ingress-staff" in namespaces:
            assert selected(spec) == "workbench"
        assert not any("ipBlock" in peer for peer in peers(spec.get("ingress", []), "from"))
    ingresses = of_kind("Ingress")
    assert ingresses["public"]["spec"]["ingressClassName"] != ingresses["staff"]["spec"]["ingressClassName"]
    backends = {
        name: {p["backend"]["service"]["name"] for r in i["spec"]["rules"] for p in r["http"]["paths"]}
        for name, i in ingresses.items()
    }
    assert backends == {"public": {"intake", PUBLIC_DIRECTORY}, "staff": {"workbench"}}
    routed = {
        (p["path"], p["backend"]["service"]["name"])
        for r in ingresses["public"]["spec"]["rules"]
        for p in r["http"]["paths"]
    }
    assert routed == {
        ("/report", "intake"), ("/v1/tips", "intake"), ("/v1/tips/[^/]+/supplements", "intake"),
        ("/hsds", PUBLIC_DIRECTORY), ("/v1/directory", PUBLIC_DIRECTORY), ("/providers/register", PUBLIC_DIRECTORY),
    }  # fmt: skip


def test_only_monitoring_reaches_the_internet_and_only_for_the_paging_webhook():
    for name, spec in policies().items():
        for rule in spec.get("egress", []):
            for peer in rule.get("to", []):
                if peer.get("ipBlock", {}).get("cidr") == "0.0.0.0/0":
                    assert name == "monitoring"
                    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
                    assert "10.0.0.0/8" in peer["ipBlock"]["except"]


def egress_ports(name: str) -> set[int]:
    return {port["port"] for rule in policies()[name]["egress"] for port in rule["ports"]}


def test_each_service_may_reach_only_the_brokers_postgresql_the_collector_and_what_it_calls():
    for service in ("intake", "triage", "disclosure"):
        assert egress_ports(service) == {9094, 5432, 4318}, service
    assert egress_ports("referral") == {9094, 5432, 4318, 8080}  # intake: who holds a tip
    assert egress_ports("monitoring") == {9094, 5432, 4318, 9464, 443}
    assert egress_ports("workbench") == {5432, 8080}  # no broker: it subscribes to nothing
    assert egress_ports("setup") == {9094, 5432}
    assert egress_ports(PUBLIC_DIRECTORY) == {5432}  # PostgreSQL only: no broker, no collector, no service
    workbench_calls = {
        peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
        for peer in peers(policies()["workbench"]["egress"], "to")
        if "podSelector" in peer
    }
    assert workbench_calls == {"intake", "triage", "disclosure", "referral", "monitoring"}
