"""What `kafka-consumer-groups --describe` shows, read from the broker: topics, groups, lag."""

import dataclasses
import time
from collections.abc import Iterable

from confluent_kafka import (
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, OffsetSpec

from shared_events.kafka.config import KafkaSettings


@dataclasses.dataclass
class PartitionStatus:
    partition: int
    leader: int
    replicas: list[int]
    isr: list[int]
    earliest: int
    latest: int

    @property
    def messages(self) -> int:
        return self.latest - self.earliest

    @property
    def under(self) -> bool:
        """Under-replicated: a replica has fallen out of the in-sync set (or is down)."""
        return len(self.isr) < len(self.replicas)


@dataclasses.dataclass
class TopicStatus:
    name: str
    exists: bool
    partitions: list[PartitionStatus]

    @property
    def messages(self) -> int:
        return sum(p.messages for p in self.partitions)


@dataclasses.dataclass
class MemberStatus:
    member_id: str
    client_id: str
    host: str
    group_instance_id: str | None
    assignment: list[str]


@dataclasses.dataclass
class GroupPartitionStatus:
    topic: str
    partition: int
    committed: int | None  # None: the group never committed here
    end: int
    lag: int  # without a commit: everything from the earliest offset (auto.offset.reset)
    member_id: str | None
    client_id: str | None
    host: str | None


@dataclasses.dataclass
class GroupStatus:
    group: str
    state: str
    members: list[MemberStatus]
    partitions: list[GroupPartitionStatus]

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)


@dataclasses.dataclass
class ClusterStatus:
    bootstrap_servers: str
    brokers: list[str]
    topics: list[TopicStatus]
    groups: list[GroupStatus]

    def as_dict(self) -> dict[str, object]:
        data = dataclasses.asdict(self)
        for topic, raw in zip(self.topics, data["topics"], strict=True):
            raw["messages"] = topic.messages
            for partition, raw_partition in zip(topic.partitions, raw["partitions"], strict=True):
                raw_partition["under_replicated"] = partition.under
        data["under_replicated"] = [
            f"{t.name}[{p.partition}]" for t in self.topics for p in t.partitions if p.under
        ]
        for group, raw in zip(self.groups, data["groups"], strict=True):
            raw["lag"] = group.lag
        return data


def cluster_status(
    settings: KafkaSettings,
    *,
    topics: Iterable[str],
    groups: Iterable[str],
    timeout: float = 10.0,
) -> ClusterStatus:
    """Describe `topics` and the consumer `groups` (members, committed and end offsets, lag).

    Raises KafkaException when the broker does not answer within `timeout`.
    """
    admin = AdminClient(
        {**settings.client_config(), "socket.timeout.ms": int(timeout * 1000)},
    )
    metadata = admin.list_topics(timeout=timeout)
    topic_names = list(dict.fromkeys(topics))
    partitions = [
        TopicPartition(name, p)
        for name in topic_names
        if name in metadata.topics
        for p in sorted(metadata.topics[name].partitions)
    ]
    earliest = _offsets(admin, partitions, OffsetSpec.earliest(), timeout)
    latest = _offsets(admin, partitions, OffsetSpec.latest(), timeout)
    topic_status = []
    for name in topic_names:
        meta = metadata.topics.get(name)
        parts = []
        if meta is not None and meta.error is None:
            for number in sorted(meta.partitions):
                pm = meta.partitions[number]
                parts.append(
                    PartitionStatus(
                        partition=number,
                        leader=pm.leader,
                        replicas=list(pm.replicas),
                        isr=list(pm.isrs),
                        earliest=earliest.get((name, number), 0),
                        latest=latest.get((name, number), 0),
                    )
                )
        topic_status.append(
            TopicStatus(name=name, exists=meta is not None and meta.error is None, partitions=parts)
        )
    group_status = [
        _group_status(admin, group, topic_names, earliest, latest, timeout)
        for group in dict.fromkeys(groups)
    ]
    return ClusterStatus(
        bootstrap_servers=settings.bootstrap_servers,
        brokers=[f"{b.id}@{b.host}:{b.port}" for b in metadata.brokers.values()],
        topics=topic_status,
        groups=group_status,
    )


# A partition just created, or whose leader is moving, answers with one of these for a
# moment; the admin client reports them without the retriable flag.
_LEADER_MOVING = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
    }
)


def _offsets(
    admin: AdminClient, partitions: list[TopicPartition], spec: OffsetSpec, timeout: float
) -> dict[tuple[str, int], int]:
    """The offset `spec` names for each partition, asking again while a leader is moving."""
    deadline = time.monotonic() + timeout
    offsets: dict[tuple[str, int], int] = {}
    pending = partitions
    while pending:
        futures = admin.list_offsets(dict.fromkeys(pending, spec), request_timeout=timeout)
        pending = []
        for tp, future in futures.items():
            try:
                offsets[(tp.topic, tp.partition)] = future.result().offset
            except KafkaException as exc:
                error = exc.args[0]
                moving = error.retriable() or error.code() in _LEADER_MOVING
                if not moving or time.monotonic() > deadline:
                    raise
                pending.append(tp)
        if pending:
            time.sleep(0.1)
    return offsets


def _group_status(
    admin: AdminClient,
    group: str,
    topics: list[str],
    earliest: dict[tuple[str, int], int],
    latest: dict[tuple[str, int], int],
    timeout: float,
) -> GroupStatus:
    try:
        description = admin.describe_consumer_groups([group], request_timeout=timeout)[
            group
        ].result()
    except KafkaException as exc:
        # A coordinator still loading (a node just started or moved): say so, lag unknown.
        error = exc.args[0]
        if not (error.retriable() or error.code() == KafkaError.NOT_COORDINATOR):
            raise
        return GroupStatus(
            group=group, state=f"UNAVAILABLE ({error.name()})", members=[], partitions=[]
        )
    owners: dict[tuple[str, int], MemberStatus] = {}
    members = []
    for m in description.members:
        assigned = m.assignment.topic_partitions if m.assignment else []
        member = MemberStatus(
            member_id=m.member_id,
            client_id=m.client_id,
            host=m.host,
            group_instance_id=m.group_instance_id,
            assignment=[f"{tp.topic}[{tp.partition}]" for tp in assigned],
        )
        members.append(member)
        for tp in assigned:
            owners[(tp.topic, tp.partition)] = member
    try:
        offsets = (
            admin.list_consumer_group_offsets(
                [ConsumerGroupTopicPartitions(group)], request_timeout=timeout
            )[group]
            .result()
            .topic_partitions
        )
    except KafkaException:
        offsets = []  # a group that never committed
    committed = {(tp.topic, tp.partition): tp.offset for tp in offsets if tp.offset >= 0}
    consumed_topics = {topic for topic, _ in committed} | {topic for topic, _ in owners}
    rows = []
    for key in sorted(k for k in latest if k[0] in topics and k[0] in consumed_topics):
        end = latest[key]
        done = committed.get(key)
        owner = owners.get(key)
        rows.append(
            GroupPartitionStatus(
                topic=key[0],
                partition=key[1],
                committed=done,
                end=end,
                lag=max(end - (done if done is not None else earliest.get(key, 0)), 0),
                member_id=owner.member_id if owner else None,
                client_id=owner.client_id if owner else None,
                host=owner.host if owner else None,
            )
        )
    state = getattr(description.state, "name", str(description.state))
    return GroupStatus(group=group, state=state, members=members, partitions=rows)
