"""The local cluster's shape, from the environment, and what each node is told."""

from pathlib import Path

import pytest

from manage_scripts.stack import StackError
from manage_scripts.stack.kafka_cluster import Credentials, cluster_of, node_properties
from shared_events.kafka.config import KafkaSettings

USERS = Credentials({"operator": ("admin", "a"), "order": ("o", "b"), "inventory": ("i", "c")})


def test_three_sasl_ssl_nodes_replicate_three_times_and_refuse_what_no_acl_allows(tmp_path):
    cluster = cluster_of({"KAFKA_BROKERS": "3", "KAFKA_SECURITY": "sasl_ssl"}, tmp_path)

    nodes = cluster.nodes
    text = node_properties(cluster, nodes[0], USERS)

    assert [n.client_port for n in nodes] == [9192, 9193, 9194]
    assert "controller.quorum.voters=1@127.0.0.1:9292,2@127.0.0.1:9293,3@127.0.0.1:9294" in text
    for line in (
        "default.replication.factor=3",
        "min.insync.replicas=2",
        "offsets.topic.replication.factor=3",
        "transaction.state.log.min.isr=2",
        "unclean.leader.election.enable=false",
        "allow.everyone.if.no.acl.found=false",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL",
        "super.users=User:kafka-broker;User:admin",
    ):
        assert line in text.splitlines(), line


def test_plain_users_are_in_the_listeners_jaas(tmp_path):
    env = {"KAFKA_SECURITY": "SASL_SSL", "KAFKA_SASL_MECHANISM": "PLAIN"}
    cluster = cluster_of(env, tmp_path)
    text = node_properties(cluster, cluster.nodes[0], USERS)
    assert 'user_o="b"' in text and 'user_i="c"' in text


@pytest.mark.parametrize(
    "env",
    [{"KAFKA_BROKERS": "2"}, {"KAFKA_SECURITY": "SSL"}, {"KAFKA_SASL_MECHANISM": "GSSAPI"}],
)
def test_an_unknown_shape_is_refused_in_one_line(env, tmp_path):
    with pytest.raises(StackError):
        cluster_of(env, tmp_path)


def test_admin_properties_read_back_as_client_settings(tmp_path: Path):
    from manage_scripts.stack.kafka_cluster import admin_properties

    cluster = cluster_of({"KAFKA_SECURITY": "SASL_SSL"}, tmp_path)
    cluster.tls.mkdir(parents=True)
    cluster.ca_certificate.write_text("-----BEGIN CERTIFICATE-----\n")
    path = admin_properties(cluster, USERS, tmp_path / "kafka")

    settings = KafkaSettings.from_properties(str(path))

    assert (settings.bootstrap_servers, settings.security_protocol) == (
        "localhost:9092",
        "SASL_SSL",
    )
    assert (settings.sasl_mechanism, settings.sasl_username, settings.sasl_password) == (
        "SCRAM-SHA-512",
        "admin",
        "a",
    )
    assert settings.ssl_ca_location == str(tmp_path / "kafka" / "ca.crt")
