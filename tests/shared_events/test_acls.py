"""Each service's ACLs: its own topic to write, the other's to read, nothing else."""

from confluent_kafka.admin import AclOperation, ResourceType
from django.conf import settings

from shared_events.kafka.acls import (
    SERVICE_TOPICS,
    service_acls,
    storefront_acls,
)


def _grants(service: str) -> set[tuple[str, str, str]]:
    return {
        (b.restype.name, b.name, b.operation.name)
        for b in service_acls(service, principal="User:order-service", namespace="ns.")
    }


def test_the_order_service_writes_only_its_topic_and_owns_its_retry_topic():
    grants = _grants("order")

    writes = {name for kind, name, op in grants if kind == "TOPIC" and op == "WRITE"}
    reads = {name for kind, name, op in grants if kind == "TOPIC" and op == "READ"}
    groups = {name for kind, name, op in grants if kind == "GROUP"}
    assert writes == {"ns.order-events", "ns.inventory-events.dlq", "ns.order-service.retry"}
    assert reads == {"ns.inventory-events", "ns.inventory-events.dlq", "ns.order-service.retry"}
    assert groups == {"ns.order-service", "ns.order-service.dead-letters"}
    assert not any(kind == ResourceType.BROKER.name for kind, _, _ in grants)
    assert not any(op in (AclOperation.CREATE.name, AclOperation.ALL.name) for *_, op in grants)


def test_the_acls_name_what_the_service_settings_use():
    names = SERVICE_TOPICS["order"]
    raw = settings.SHARED_EVENTS
    assert (names.publishes, [names.consumes], names.group) == (
        raw["PUBLISH_TOPIC"],
        raw["CONSUME_TOPICS"],
        raw["CONSUMER_GROUP"],
    )


def test_the_storefront_only_reads_the_order_events_with_its_own_group():
    grants = {
        (b.restype.name, b.name, b.operation.name)
        for b in storefront_acls(principal="User:storefront", namespace="ns.")
    }

    assert grants == {
        ("TOPIC", "ns.order-events", "READ"),
        ("TOPIC", "ns.order-events", "DESCRIBE"),
        ("GROUP", "ns.storefront", "READ"),
    }
