"""Least-privilege ACLs of each service on a cluster that refuses what no ACL allows.

A service writes its own event topic, reads the other's with its own group, writes and
reads the dead-letter topic of what it consumes (with its dead-letter group), and owns its
group's retry topic, where replayed dead letters go. Nothing else: not the other service's
topic, not topic creation (the operator creates topics).

The storefront reads the order events with its own group, to push each order's status to
its page, and may do nothing else.
"""

import dataclasses

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from shared_events.kafka.config import KafkaSettings
from shared_events.topics import (
    INVENTORY_EVENTS,
    ORDER_EVENTS,
    STOREFRONT_GROUP,
    dead_letter_group,
    dead_letter_topic,
    retry_topic,
    topic_name,
)


@dataclasses.dataclass(frozen=True)
class ServiceTopics:
    """What one service publishes, consumes, and as which group."""

    publishes: str
    consumes: str
    group: str


# The same names as each service's SHARED_EVENTS settings (tests/shared_events/test_acls.py).
SERVICE_TOPICS = {
    "order": ServiceTopics(
        publishes=ORDER_EVENTS, consumes=INVENTORY_EVENTS, group="order-service"
    ),
    "inventory": ServiceTopics(
        publishes=INVENTORY_EVENTS, consumes=ORDER_EVENTS, group="inventory-service"
    ),
}

_WRITE = (AclOperation.WRITE, AclOperation.DESCRIBE)
_READ = (AclOperation.READ, AclOperation.DESCRIBE)


def service_acls(service: str, *, principal: str, namespace: str = "") -> list[AclBinding]:
    """The ACLs that let `principal` (`User:<name>`) act as `service` within `namespace`."""
    names = SERVICE_TOPICS[service]

    def named(base: str) -> str:
        return topic_name(base, namespace=namespace)

    group = named(names.group)
    grants = [
        (ResourceType.TOPIC, named(names.publishes), _WRITE),
        (ResourceType.TOPIC, named(names.consumes), _READ),
        (ResourceType.GROUP, group, (AclOperation.READ,)),
        (ResourceType.TOPIC, dead_letter_topic(named(names.consumes)), (*_WRITE, *_READ)),
        (ResourceType.GROUP, dead_letter_group(group), (AclOperation.READ,)),
        (ResourceType.TOPIC, retry_topic(group), (*_WRITE, *_READ)),
    ]
    return _allow(principal, grants)


def storefront_acls(*, principal: str, namespace: str = "") -> list[AclBinding]:
    """The ACLs that let `principal` read the order events as the storefront's group."""
    grants = [
        (ResourceType.TOPIC, topic_name(ORDER_EVENTS, namespace=namespace), _READ),
        (
            ResourceType.GROUP,
            topic_name(STOREFRONT_GROUP, namespace=namespace),
            (AclOperation.READ,),
        ),
    ]
    return _allow(principal, grants)


def _allow(
    principal: str, grants: list[tuple[ResourceType, str, tuple[AclOperation, ...]]]
) -> list[AclBinding]:
    return [
        AclBinding(
            kind,
            name,
            ResourcePatternType.LITERAL,
            principal,
            "*",
            operation,
            AclPermissionType.ALLOW,
        )
        for kind, name, operations in grants
        for operation in dict.fromkeys(operations)
    ]


def acls_grant(settings: KafkaSettings, bindings: list[AclBinding]) -> None:
    """Create `bindings` (creating an existing ACL again is a no-op)."""
    admin = AdminClient(settings.client_config())
    for future in admin.create_acls(bindings, request_timeout=30).values():
        future.result()


def acls_revoke(settings: KafkaSettings, bindings: list[AclBinding]) -> None:
    """Delete exactly `bindings`."""
    admin = AdminClient(settings.client_config())
    filters = [
        AclBindingFilter(
            b.restype,
            b.name,
            b.resource_pattern_type,
            b.principal,
            b.host,
            b.operation,
            b.permission_type,
        )
        for b in bindings
    ]
    for future in admin.delete_acls(filters, request_timeout=30).values():
        future.result()
