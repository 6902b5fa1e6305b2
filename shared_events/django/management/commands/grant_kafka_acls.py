"""`manage.py grant_kafka_acls`: give each service's Kafka user its least-privilege ACLs.

Run as the operator (a super user) on a cluster that refuses what no ACL allows, after
`create_topics`; compose's `setup` runs it. Granting again changes nothing.
"""

from typing import Any

from confluent_kafka import KafkaException
from django.core.management.base import BaseCommand, CommandError

from shared_events.django.conf import events_config
from shared_events.kafka.acls import (
    SERVICE_TOPICS,
    acls_grant,
    monitor_acls,
    service_acls,
    storefront_acls,
)


class Command(BaseCommand):
    help = (
        "Grant each service's user its ACLs, and the storefront's and a read-only console's "
        "users theirs."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--service",
            action="append",
            default=[],
            metavar="SERVICE=USER",
            help=f"a service ({', '.join(SERVICE_TOPICS)}) and its Kafka user; repeatable",
        )
        parser.add_argument("--monitor", metavar="USER", help="a read-only console's user")
        parser.add_argument("--storefront", metavar="USER", help="the storefront's user")

    def handle(
        self,
        *args: Any,
        service: list[str],
        monitor: str | None,
        storefront: str | None,
        **options: Any,
    ) -> None:
        kafka = events_config().kafka
        bindings = []
        for pair in service:
            name, _, user = pair.partition("=")
            if name not in SERVICE_TOPICS or not user:
                raise CommandError(
                    f"--service {pair!r}: expected SERVICE=USER, SERVICE one of "
                    f"{', '.join(SERVICE_TOPICS)}"
                )
            bindings += service_acls(name, principal=f"User:{user}", namespace=kafka.namespace)
        if monitor:
            bindings += monitor_acls(principal=f"User:{monitor}", namespace=kafka.namespace)
        if storefront:
            bindings += storefront_acls(principal=f"User:{storefront}", namespace=kafka.namespace)
        if not bindings:
            raise CommandError(
                "nothing to grant: give --service SERVICE=USER, --monitor USER or --storefront USER"
            )
        try:
            acls_grant(kafka, bindings)
        except KafkaException as exc:
            raise CommandError(f"granting ACLs failed: {exc}") from exc
        self.stdout.write(f"granted {len(bindings)} ACLs")
