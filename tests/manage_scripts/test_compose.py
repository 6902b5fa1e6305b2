"""compose/compose.yaml has the production shape of the native cluster, whose settings the
tests/kafka_cluster suite runs for real: three nodes on SASL over TLS, per-service users, ACLs.

No Docker engine runs these tests; they read the file as compose would and compare the
brokers' settings, as the apache/kafka image turns its KAFKA_* variables into properties,
with what manage_scripts.stack writes for a native node.
"""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from manage_scripts.kafka_secrets import COMPOSE_USERS, jaas_text, secrets_write, users_of
from manage_scripts.stack import StackError
from manage_scripts.stack.config import ROOT
from manage_scripts.stack.kafka_cluster import Credentials, cluster_of, node_properties

COMPOSE = yaml.safe_load((ROOT / "compose" / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
NODES = ["kafka-1", "kafka-2", "kafka-3"]
# Settings of a node that differ by design: where things are, and who the operator is.
LOCAL = re.compile(r"^(listeners|advertised\.listeners|controller\.quorum\.voters|log\.dirs|"
                   r"node\.id|super\.users|ssl\.(keystore|truststore)\.location|"
                   r"listener\.name\.client\.plain\.sasl\.jaas\.config)$")  # fmt: skip


def image_properties(environment: dict[str, str]) -> dict[str, str]:
    """What the apache/kafka image writes to server.properties for these variables."""
    excluded = {"KAFKA_OPTS", "KAFKA_HEAP_OPTS", "KAFKA_VERSION", "CLUSTER_ID"}
    return {
        name.removeprefix("KAFKA_").lower().replace("_", "."): str(value).replace("$$", "$")
        for name, value in environment.items()
        if name.startswith("KAFKA_") and name not in excluded
    }


def native_properties(tmp_path: Path) -> dict[str, str]:
    cluster = cluster_of(
        {"KAFKA_BROKERS": "3", "KAFKA_SECURITY": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"},
        tmp_path,
    )
    users = Credentials({"operator": ("a", "1"), "order": ("o", "2"), "inventory": ("i", "3")})
    text = node_properties(cluster, cluster.nodes[0], users)
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#")
    return dict(pairs)


def test_each_node_has_the_native_nodes_settings(tmp_path):
    native = {k: v for k, v in native_properties(tmp_path).items() if not LOCAL.match(k)}
    for node in NODES:
        compose = image_properties(SERVICES[node]["environment"])
        # The host's listener is compose's own; the others must be the native ones.
        protocols = compose["listener.security.protocol.map"].split(",")
        compose["listener.security.protocol.map"] = ",".join(
            p for p in protocols if not p.startswith("HOST:")
        )
        differing = {
            key: (compose.get(key), value)
            for key, value in native.items()
            if compose.get(key) != value and key not in compose_only_differences()
        }
        assert differing == {}, f"{node}: {differing}"


def compose_only_differences() -> set[str]:
    """Native-only settings with a compose counterpart under another name or default."""
    # The native node names the CLIENT listener's JAAS inline; compose gives a JAAS file
    # (KAFKA_OPTS), whose KafkaServer section every SASL listener reads.
    return {"listener.name.client.plain.sasl.jaas.config"}


def test_the_nodes_form_one_quorum_with_their_own_addresses():
    for n, node in enumerate(NODES, start=1):
        env = SERVICES[node]["environment"]
        assert env["KAFKA_NODE_ID"] == str(n)
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == ",".join(
            f"{i}@kafka-{i}:9093" for i in (1, 2, 3)
        )
        assert f"CLIENT://kafka-{n}:9092" in env["KAFKA_ADVERTISED_LISTENERS"]
        assert "SASL_SSL" in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        assert "PLAINTEXT" not in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
        volumes = SERVICES[node]["volumes"]
        assert f"kafka-{n}-data:/var/lib/kafka/data" in volumes
        assert "kafka-secrets:/etc/kafka/secrets:ro" in volumes


def test_each_application_container_logs_in_as_its_own_service():
    for name, service in SERVICES.items():
        prefix = name.split("-")[0]
        if prefix not in ("order", "inventory") and name != "storefront-consumer":
            continue
        env = service["environment"]
        assert env["KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["KAFKA_SSL_CA_LOCATION"] == "/etc/kafka-ca/ca.crt", name
        assert env["KAFKA_SASL_USERNAME"].startswith(f"${{{prefix.upper()}_KAFKA_SASL_USERNAME"), (
            name
        )
        assert env["KAFKA_SASL_PASSWORD"].startswith(f"${{{prefix.upper()}_KAFKA_SASL_PASSWORD"), (
            name
        )
        assert "kafka-ca:/etc/kafka-ca:ro" in service["volumes"], name


def test_setup_grants_each_user_its_acls_as_the_operator():
    setup = SERVICES["setup"]
    script = "\n".join(setup["command"])
    assert setup["environment"]["KAFKA_SASL_USERNAME"].startswith("${KAFKA_SASL_USERNAME")
    assert 'grant_kafka_acls --service order="$$ORDER_KAFKA_SASL_USERNAME"' in script
    assert '--service inventory="$$INVENTORY_KAFKA_SASL_USERNAME"' in script
    assert '--monitor "$$KAFKA_UI_KAFKA_SASL_USERNAME"' in script
    assert '--storefront "$$STOREFRONT_KAFKA_SASL_USERNAME"' in script
    assert script.index("create_topics") < script.index("grant_kafka_acls")


def test_kafka_ui_reads_over_sasl_ssl_as_its_own_user():
    env = SERVICES["kafka-ui"]["environment"]
    assert env["KAFKA_CLUSTERS_0_PROPERTIES_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert (
        'username="${KAFKA_UI_KAFKA_SASL_USERNAME'
        in env["KAFKA_CLUSTERS_0_PROPERTIES_SASL_JAAS_CONFIG"]
    )
    assert env["KAFKA_CLUSTERS_0_PROPERTIES_SSL_TRUSTSTORE_LOCATION"] == "/etc/kafka-ca/ca.crt"
    assert env["KAFKA_CLUSTERS_0_READONLY"] == "true"


def test_secrets_need_every_password():
    with pytest.raises(StackError, match="ORDER_KAFKA_SASL_PASSWORD"):
        users_of({"KAFKA_SASL_PASSWORD": "x"})


def test_the_brokers_accept_each_user_and_their_certificate_names_every_node(tmp_path):
    env = {
        (
            "KAFKA_SASL_PASSWORD" if who == "operator" else f"{who.upper()}_KAFKA_SASL_PASSWORD"
        ): f"pw-{who}"
        for who in COMPOSE_USERS
    }
    secrets_dir, ca_dir = tmp_path / "secrets", tmp_path / "ca"
    secrets_write(secrets_dir, ca_dir, env)

    jaas = (secrets_dir / "kafka_server_jaas.conf").read_text()
    assert jaas == jaas_text(users_of(env))
    for who, name in COMPOSE_USERS.items():
        assert f'user_{name}="pw-{who}"' in jaas
    assert (ca_dir / "ca.crt").read_bytes() == (secrets_dir / "ca.crt").read_bytes()
    certificate = subprocess.run(
        ["openssl", "x509", "-in", str(secrets_dir / "broker.crt"), "-noout", "-text"],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    for node in NODES:
        assert f"DNS:{node}" in certificate
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(ca_dir / "ca.crt"), str(secrets_dir / "broker.crt")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert verified.returncode == 0, verified.stderr
