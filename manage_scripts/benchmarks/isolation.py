"""The bench's own databases, Redis databases, ports and Kafka namespaces.

Nothing here touches a developer's stack or a test run: databases `bench_*`, Redis
databases 4, 5 and 8, ports 28000-28003 (gateway, order, inventory, storefront; second
instances 10 above), run directory `.run/bench-stack`, and Kafka names under
`bench-<run id>` (deleted again at the end).
"""

import dataclasses
import os
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from shared_events.kafka.config import KafkaSettings

from manage_scripts.stack.config import PYTHON, ROOT, SERVICES
from manage_scripts.stack.provision import databases_drop, databases_ensure


@dataclasses.dataclass(frozen=True)
class BenchEnv:
    run_id: str
    pg_base: str
    redis_base: str
    kafka_bootstrap: str
    databases: dict[str, str]
    redis_dbs: dict[str, int]
    ports: dict[str, int]
    stack_run_dir: Path
    tmp_dir: Path

    @classmethod
    def from_env(cls) -> "BenchEnv":
        env = os.environ
        tmp = ROOT / "bench-reports" / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return cls(
            run_id=env.get("BENCH_RUN_ID") or uuid.uuid4().hex[:8],
            pg_base=env.get("BENCH_POSTGRES_URL", "postgres://saga:saga@127.0.0.1:5432"),
            redis_base=env.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379"),
            kafka_bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
            databases={"order": "bench_order_service", "inventory": "bench_inventory_service"},
            redis_dbs={"order": 4, "inventory": 5, "storefront": 8},
            ports={"order": 28001, "inventory": 28002, "gateway": 28000, "storefront": 28003},
            stack_run_dir=ROOT / ".run" / "bench-stack",
            tmp_dir=tmp,
        )

    # --- names ---------------------------------------------------------------------

    @property
    def name_prefix(self) -> str:
        return f"bench-{self.run_id}"

    def namespace(self, suffix: str = "") -> str:
        """A Kafka namespace of this run: `bench-<run id>.` or `bench-<run id>-<suffix>.`."""
        return f"{self.name_prefix}{'-' + suffix if suffix else ''}."

    def database_url(self, service: str) -> str:
        return f"{self.pg_base}/{self.databases[service]}"

    def dsn(self, service: str | None = None) -> str:
        parsed = urllib.parse.urlsplit(self.pg_base)
        name = self.databases[service] if service else "postgres"
        return (
            f"host={parsed.hostname} port={parsed.port or 5432} user={parsed.username} "
            f"password={parsed.password} dbname={name}"
        )

    def redis_url(self, service: str) -> str:
        return f"{self.redis_base}/{self.redis_dbs[service]}"

    def service_env(self, service: str, *, namespace: str) -> dict[str, str]:
        """The environment of a bench process of `service` (dev settings, bench resources)."""
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": f"{service}_service.settings.dev",
            "ORDER_DATABASE_URL": self.database_url("order"),
            "INVENTORY_DATABASE_URL": self.database_url("inventory"),
            "ORDER_CELERY_BROKER_URL": self.redis_url("order"),
            "INVENTORY_CELERY_BROKER_URL": self.redis_url("inventory"),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "KAFKA_NAMESPACE": namespace,
            "PYTHONUNBUFFERED": "1",
        }

    def kafka_settings(self, namespace: str) -> "KafkaSettings":
        from shared_events.kafka.config import KafkaSettings

        return KafkaSettings.from_env(
            {k: v for k, v in os.environ.items() if k != "KAFKA_NAMESPACE"},
            bootstrap_servers=self.kafka_bootstrap,
            namespace=namespace,
        )

    # --- set-up and clean-up -------------------------------------------------------------

    def databases_drop(self) -> None:
        databases_drop(self.database_url(service) for service in SERVICES)

    def databases_recreate_and_migrate(self, *, namespace: str) -> None:
        self.databases_drop()
        databases_ensure(self.database_url(service) for service in SERVICES)
        for service in SERVICES:
            self.manage(service, "migrate", "--no-input", namespace=namespace)

    def manage(self, service: str, *args: str, namespace: str) -> str:
        result = subprocess.run(
            [PYTHON, str(ROOT / f"{service}_service" / "manage.py"), *args],
            env=self.service_env(service, namespace=namespace),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{service} manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
            )
        return result.stdout

    def topics_create(self, namespace: str) -> None:
        from shared_events.kafka.admin import topics_ensure

        topics_ensure(self.kafka_settings(namespace))

    def redis_flush(self) -> None:
        import redis

        for service in self.redis_dbs:
            redis.Redis.from_url(self.redis_url(service)).flushdb()

    def kafka_cleanup(self) -> dict[str, int]:
        """Delete this run's topics and consumer groups (only names under bench-<run id>)."""
        from confluent_kafka.admin import AdminClient

        client = AdminClient(self.kafka_settings(self.name_prefix).client_config())
        prefix = self.name_prefix
        topics = [t for t in client.list_topics(timeout=10).topics if t.startswith(prefix)]
        deleted_topics = 0
        if topics:
            for future in client.delete_topics(topics, operation_timeout=30).values():
                try:
                    future.result()
                    deleted_topics += 1
                except Exception as exc:  # noqa: BLE001 - best effort clean-up
                    print(f"[bench] could not delete a topic: {exc}", flush=True)
        deleted_groups = 0
        # Static members stay in their group until the session times out (10 s): retry.
        deadline = time.monotonic() + 20
        while True:
            failed = []
            try:
                listing = client.list_consumer_groups().result()
                groups = [g.group_id for g in listing.valid if g.group_id.startswith(prefix)]
                if groups:
                    for group, future in client.delete_consumer_groups(groups).items():
                        try:
                            future.result()
                            deleted_groups += 1
                        except Exception as exc:  # noqa: BLE001 - best effort clean-up
                            failed.append(f"{group}: {exc}")
            except Exception as exc:  # noqa: BLE001 - best effort clean-up
                failed.append(f"listing groups: {exc}")
            if not failed or time.monotonic() > deadline:
                break
            time.sleep(2)
        for failure in failed:
            print(f"[bench] could not delete a consumer group: {failure}", flush=True)
        return {"topics": deleted_topics, "groups": deleted_groups}
