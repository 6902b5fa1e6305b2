"""Topic and consumer-group names.

`namespace` prefixes every name so that isolated stacks (tests, benchmarks) can share
one Kafka cluster without seeing each other's events.
"""

ORDER_EVENTS = "order-events"
INVENTORY_EVENTS = "inventory-events"
DEAD_LETTER_SUFFIX = ".dlq"


def topic_name(base: str, *, namespace: str = "") -> str:
    return f"{namespace}{base}"


def dead_letter_topic(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}"


def all_topics(*, namespace: str = "") -> list[str]:
    """Every topic the saga uses, dead-letter topics included."""
    names = [topic_name(t, namespace=namespace) for t in (ORDER_EVENTS, INVENTORY_EVENTS)]
    return names + [dead_letter_topic(n) for n in names]
