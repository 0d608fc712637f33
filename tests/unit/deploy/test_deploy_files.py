"""The deployment files, as far as this machine can check them (no container engine here).

They parse; every ``HST_*`` variable they set is a setting the code reads; every topic they
name is one the pipeline uses, with its partitions and settings; the versions they pin
agree with the client libraries and the embedded stack.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.kafka.admin import pipeline_topics
from pipeline.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose" / "compose.yaml"
K8S = sorted((DEPLOY / "k8s").glob("*.yaml"))
# Read by command options rather than by Settings.
CLI_VARIABLES = {
    "HST_WORKER_NAME",
    "HST_KEYSTORE_PASSWORD",
    "HST_WORKER_PASSWORD",
    "HST_NCB_PASSWORD_",
}
# Read by the test suite only.
TEST_VARIABLES = {"HST_FAULT_TEST_MESSAGES", "HST_TEST_WORKER_LOGLEVEL"} | {
    # The suite against an external search engine (tests/conftest.py: external_search).
    f"HST_TEST_{name.upper()}"
    for name in Settings.model_fields
    if name.startswith("search_")
}


def _yaml_docs() -> dict[Path, list[Any]]:
    return {p: [d for d in yaml.safe_load_all(p.read_text()) if d] for p in [COMPOSE, *K8S]}


def _image_tags(text: str, image: str) -> set[str]:
    return set(re.findall(rf"{re.escape(image)}:([\w.\-]+)", text))


def test_every_file_parses_and_kubernetes_objects_are_complete() -> None:
    docs = _yaml_docs()
    assert docs[COMPOSE][0]["services"]
    kinds = {d["kind"] for p in K8S for d in docs[p]}
    assert {"StatefulSet", "ConfigMap", "Job", "Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser",
            "Elasticsearch", "Kibana"} <= kinds  # fmt: skip
    for p in K8S:
        for d in docs[p]:
            assert (
                d["apiVersion"] and d["metadata"]["name"] and d["metadata"]["namespace"] == "hst"
            ), p


def test_every_hst_variable_named_is_a_setting() -> None:
    known = (
        {f"HST_{name.upper()}" for name in Settings.model_fields} | CLI_VARIABLES | TEST_VARIABLES
    )
    files = [COMPOSE, DEPLOY / "compose" / ".env.example", DEPLOY / "docker" / "Dockerfile", *K8S,
             ROOT / "README.md"]  # fmt: skip
    named = {v for f in files for v in re.findall(r"\bHST_[A-Z0-9_]+\b", f.read_text())}
    assert named - {"HST_IMAGE"} <= known, sorted(named - known - {"HST_IMAGE"})
    assert {"HST_BOOTSTRAP_SERVERS", "HST_SASL_PASSWORD", "HST_SEARCH_URL", "HST_WEB_BIND"} <= named


def test_worker_statefulset_has_state_volume_probes_and_scrape_annotations() -> None:
    sts = next(d for p in K8S for d in _yaml_docs()[p] if d["kind"] == "StatefulSet")
    pod = sts["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert pod["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
    assert pod["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert [c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]] == ["state"]
    config = next(d for p in K8S for d in _yaml_docs()[p] if d["kind"] == "ConfigMap")["data"]
    assert mounts["state"] == config["HST_DATA_DIR"]  # RocksDB lives on the worker's own volume
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    names = {e["name"] for e in container["env"]}
    assert "HST_WORKER_NAME" in names  # one RocksDB directory per worker (the pod name)


def test_strimzi_topics_are_exactly_the_pipelines() -> None:
    docs = [d for p in K8S for d in _yaml_docs()[p] if d["kind"] == "KafkaTopic"]
    config = next(d for p in K8S for d in _yaml_docs()[p] if d["kind"] == "ConfigMap")["data"]
    cfg = Settings(partitions=int(config["HST_PARTITIONS"]), app_id=config["HST_APP_ID"],
                   replication_factor=int(config["HST_REPLICATION_FACTOR"]), ncbs=config["HST_NCBS"])  # fmt: skip
    expected = {t.name: t for t in pipeline_topics(cfg)}
    actual = {d["spec"]["topicName"]: d["spec"] for d in docs}
    assert set(actual) == set(expected)
    for name, spec in actual.items():
        t = expected[name]
        assert (spec["partitions"], spec["replicas"], spec["config"]) == (
            t.partitions,
            t.replication_factor,
            t.config,
        ), name
        assert spec["replicas"] == 3 and spec["config"].get("min.insync.replicas") == "2"


def test_acls_name_only_pipeline_topics() -> None:
    names = {t.name for t in pipeline_topics(Settings(app_id="hst-pipeline", ncbs="FRA,ITA,LBY"))}
    for p in K8S:
        for d in _yaml_docs()[p]:
            if d["kind"] != "KafkaUser":
                continue
            for acl in d["spec"]["authorization"]["acls"]:
                r = acl["resource"]
                if r["type"] != "topic":
                    continue
                if r["patternType"] == "prefix":
                    assert any(n.startswith(r["name"]) for n in names), r
                else:
                    assert r["name"] in names, r
    script = (DEPLOY / "compose" / "init" / "kafka-users.sh").read_text()
    for topic in re.findall(r"--topic (\S+)", script):
        topic = topic.strip('"').replace("${ncb}", "FRA")
        if topic != "_schemas":
            assert any(n.startswith(topic) for n in names), topic


def test_compose_cluster_is_replicated_and_secured() -> None:
    props = dict(
        line.split("=", 1) for line in (DEPLOY / "compose" / "kafka" / "server.properties").read_text().splitlines()
        if line and not line.startswith("#")
    )  # fmt: skip
    assert props["default.replication.factor"] == "3" and props["min.insync.replicas"] == "2"
    assert props["authorizer.class.name"].endswith("StandardAuthorizer")
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert "SASL_SSL" in props["listener.security.protocol.map"]
    assert "PLAINTEXT" not in props["listener.security.protocol.map"]
    services = _yaml_docs()[COMPOSE][0]["services"]
    assert {"kafka-1", "kafka-2", "kafka-3", "schema-registry", "es01", "kibana", "setup"} <= set(
        services
    )
    assert sum(1 for s in services if s.startswith("worker-")) >= 2
    assert services["es01"]["environment"]["xpack.security.enabled"] == "true"
    worker_env = services["worker-1"]["environment"]
    assert (
        worker_env["HST_REPLICATION_FACTOR"] == "3"
        and worker_env["HST_SECURITY_PROTOCOL"] == "SASL_SSL"
    )


def test_pinned_versions_agree_with_the_clients_and_the_embedded_stack() -> None:
    text = COMPOSE.read_text() + "".join(p.read_text() for p in K8S)
    kafka = Settings.model_fields["kafka_version"].default
    pom = (ROOT / "pipeline" / "stack" / "kafka" / "pom.xml").read_text()
    assert f"<kafka.version>{kafka}</kafka.version>" in pom
    assert _image_tags(text, "apache/kafka") == {kafka}
    assert set(
        re.findall(
            r"^\s+version: (\d+\.\d+\.\d+)$",
            (DEPLOY / "k8s" / "kafka-cluster.yaml").read_text(),
            re.M,
        )
    ) == {kafka}
    # Confluent Platform 7.9 ships Apache Kafka 3.9.
    (cp,) = _image_tags(text, "confluentinc/cp-schema-registry")
    assert {"7.9": "3.9"}[cp.rsplit(".", 1)[0]] == kafka.rsplit(".", 1)[0]
    # Elasticsearch and Kibana: one version, the same major.minor as the `elasticsearch` client.
    client = ".".join(version("elasticsearch").split(".")[:2])
    stack = _image_tags(text, "elasticsearch/elasticsearch") | _image_tags(text, "kibana/kibana")
    stack |= set(
        re.findall(
            r"^\s+version: (\d+\.\d+\.\d+)$", (DEPLOY / "k8s" / "elastic.yaml").read_text(), re.M
        )
    )
    assert len(stack) == 1 and next(iter(stack)).startswith(client + "."), stack


def test_container_image_is_pinned_and_non_root() -> None:
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, re.M)
    assert bases and all(
        re.fullmatch(r"python:3\.11\.\d+-slim-\w+( AS \w+)?|python:3\.11\.\d+-slim-\w+", b)
        for b in bases
    )
    assert "-c requirements.lock" in dockerfile  # every package pinned
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and not user[-1].startswith(("0", "root"))


@pytest.mark.parametrize("doc", ["README.md", "deploy/README.md"])
def test_deployment_is_documented(doc: str) -> None:
    text = (ROOT / doc).read_text()
    assert "compose" in text and "min.insync.replicas" in text


def test_the_ncb_kafkauser_grants_exactly_the_security_plan() -> None:
    from pipeline.kafka.security import ncb_acls

    user = next(
        d
        for p in K8S
        for d in _yaml_docs()[p]
        if d["kind"] == "KafkaUser" and d["metadata"]["name"] == "ncb-fra"
    )
    granted = {(a["resource"]["type"], a["resource"]["name"], a["resource"]["patternType"], op.upper())
               for a in user["spec"]["authorization"]["acls"] for op in a["operations"]}  # fmt: skip
    kinds = {"TOPIC": "topic", "GROUP": "group"}
    patterns = {"LITERAL": "literal", "PREFIXED": "prefix"}
    planned = {(kinds[b.restype.name], b.name, patterns[b.resource_pattern_type.name], b.operation.name)
               for b in ncb_acls(Settings(ncbs="FRA,ITA,LBY"), "FRA")}  # fmt: skip
    assert granted == planned


def test_the_alerts_name_metrics_the_workers_export() -> None:
    from pipeline.stream.metrics import REGISTRY

    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yaml").read_text())["groups"][0]
    families = list(REGISTRY.collect())  # a labelled counter has no sample before its first use
    exported = {m.name + ("_total" if m.type == "counter" else "") for m in families}
    exported |= {s.name for m in families for s in m.samples}
    named = {name for rule in rules["rules"] for name in re.findall(r"\bhst_[a-z_]+", rule["expr"])}
    assert len(rules["rules"]) >= 5 and named
    assert named <= exported, named - exported
    for rule in rules["rules"]:
        assert rule["labels"]["severity"] in {"critical", "warning"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]
