"""`manage.py kafka_status`: topics, consumer groups, members, offsets and lag, from the broker."""

import json
from typing import Any

from confluent_kafka import KafkaException
from django.core.management.base import BaseCommand, CommandError

from shared_events.django.conf import events_config
from shared_events.kafka.config import KafkaSettings
from shared_events.kafka.status import ClusterStatus, cluster_status
from shared_events.topics import all_groups, all_topics


class Command(BaseCommand):
    help = (
        "Show the saga's topics (partitions, leaders, offsets) and consumer groups (state, "
        "members, committed and end offsets, lag), like kafka-consumer-groups --describe."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--json", dest="as_json", action="store_true", help="machine-readable output"
        )
        parser.add_argument(
            "--group",
            action="append",
            dest="groups",
            help="describe this group (repeatable; default: every group of the saga)",
        )
        parser.add_argument(
            "--topic",
            action="append",
            dest="topics",
            help="describe this topic (repeatable; default: every topic of the saga)",
        )
        parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request")
        parser.add_argument(
            "--command-config",
            help="connect as in this Kafka CLI properties file (e.g. the admin.properties that "
            "manage_scripts/up writes) rather than as this service",
        )

    def handle(
        self,
        *args: Any,
        as_json: bool,
        groups: list[str] | None,
        topics: list[str] | None,
        timeout: float,
        command_config: str | None,
        **options: Any,
    ) -> None:
        kafka = events_config().kafka
        if command_config:
            kafka = KafkaSettings.from_properties(command_config, namespace=kafka.namespace)
        try:
            status = cluster_status(
                kafka,
                topics=topics or all_topics(namespace=kafka.namespace),
                groups=groups or all_groups(namespace=kafka.namespace),
                timeout=timeout,
            )
        except KafkaException as exc:
            raise CommandError(f"Kafka at {kafka.bootstrap_servers} did not answer: {exc}") from exc
        if as_json:
            self.stdout.write(json.dumps(status.as_dict(), indent=2))
        else:
            self.stdout.write(status_text(status))


def status_text(status: ClusterStatus) -> str:
    lines = [f"Kafka {status.bootstrap_servers}: brokers {', '.join(status.brokers)}"]
    under = [f"{t.name}[{p.partition}]" for t in status.topics for p in t.partitions if p.under]
    lines += [
        f"under-replicated partitions: {len(under)}" + (f" ({', '.join(under)})" if under else ""),
        "",
    ]
    lines.append(
        _table(
            [
                "TOPIC",
                "PARTITION",
                "LEADER",
                "REPLICAS",
                "ISR",
                "UNDER-REPLICATED",
                "EARLIEST",
                "LATEST",
                "MESSAGES",
            ],
            [
                list[object]([t.name, "-", "-", "-", "-", "-", "-", "-", "missing"])
                for t in status.topics
                if not t.exists
            ]
            + [
                [
                    t.name,
                    p.partition,
                    p.leader,
                    ",".join(map(str, p.replicas)),
                    ",".join(map(str, p.isr)),
                    "yes" if p.under else "no",
                    p.earliest,
                    p.latest,
                    p.messages,
                ]
                for t in status.topics
                for p in t.partitions
            ],
        )
    )
    for group in status.groups:
        lines += [
            "",
            f"GROUP {group.group}  state {group.state}  members {len(group.members)}  "
            f"total lag {group.lag}",
        ]
        for m in group.members:
            instance = f" instance {m.group_instance_id}" if m.group_instance_id else ""
            lines.append(
                f"  member {m.member_id} client {m.client_id} host {m.host}{instance}: "
                f"{', '.join(m.assignment) or 'no partitions'}"
            )
        if group.partitions:
            lines.append(
                _table(
                    [
                        "TOPIC",
                        "PARTITION",
                        "CURRENT-OFFSET",
                        "LOG-END-OFFSET",
                        "LAG",
                        "CONSUMER-ID",
                        "HOST",
                        "CLIENT-ID",
                    ],
                    [
                        [
                            p.topic,
                            p.partition,
                            "-" if p.committed is None else p.committed,
                            p.end,
                            p.lag,
                            p.member_id or "-",
                            p.host or "-",
                            p.client_id or "-",
                        ]
                        for p in group.partitions
                    ],
                )
            )
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[object]]) -> str:
    cells = [header, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )
