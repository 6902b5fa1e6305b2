"""Where the stack's servers, processes and files are, from the services' own variables.

A stack pointed at existing servers starts only what is missing.
"""

import dataclasses
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from manage_scripts.stack.kafka_cluster import (
    KAFKA_DIR,
    OPERATOR,
    STOREFRONT,
    Credentials,
    KafkaCluster,
    cluster_of,
)
from service_platform.signing_keys import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, KeyPairFiles

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent
SERVICES = ("order", "inventory")
__all__ = ["KAFKA_DIR", "PYTHON", "ROOT", "SERVICES", "VENV_BIN", "StackConfig"]


@dataclasses.dataclass(frozen=True)
class StackConfig:
    run_dir: Path
    data_dir: Path
    database_urls: dict[str, str]
    broker_urls: dict[str, str]
    kafka_cluster: KafkaCluster  # local, or the one answering at its bootstrap servers
    kafka_credentials: Credentials
    ports: dict[str, int]
    web_instances: int  # web instance n of a service listens on its port + 10 * (n - 1)
    web_workers: int
    consumers: int
    settings_modules: dict[str, str]
    storefront_redis_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "StackConfig":
        env = os.environ if env is None else env
        data_dir = Path(env.get("SAGA_DATA_DIR", ROOT / ".run" / "data")).resolve()
        kafka_cluster = cluster_of(env, data_dir)
        return cls(
            run_dir=Path(env.get("SAGA_RUN_DIR", ROOT / ".run" / "dev")).resolve(),
            data_dir=data_dir,
            database_urls={
                "order": env.get(
                    "ORDER_DATABASE_URL", "postgres://saga:saga@127.0.0.1:5432/order_service"
                ),
                "inventory": env.get(
                    "INVENTORY_DATABASE_URL",
                    "postgres://saga:saga@127.0.0.1:5432/inventory_service",
                ),
            },
            broker_urls={
                "order": env.get("ORDER_CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
                "inventory": env.get("INVENTORY_CELERY_BROKER_URL", "redis://127.0.0.1:6379/1"),
            },
            kafka_cluster=kafka_cluster,
            kafka_credentials=kafka_cluster.credentials(env),
            ports={
                "order": int(env.get("ORDER_PORT", "8001")),
                "inventory": int(env.get("INVENTORY_PORT", "8002")),
                # Beside the services by default, so that stacks on other ports never meet.
                STOREFRONT: int(
                    env.get("STOREFRONT_PORT") or int(env.get("ORDER_PORT", "8001")) + 2
                ),
            },
            web_instances=int(env.get("WEB_INSTANCES") or 2),
            # Sync workers spend much of a request waiting on PostgreSQL: two per core keep
            # the cores busy (one per core left a flash sale queueing at the web tier).
            web_workers=int(env.get("WEB_WORKERS") or 2 * (os.cpu_count() or 1)),
            consumers=int(env.get("CONSUMER_PROCESSES", "1")),
            settings_modules={
                service: env.get(
                    f"{service.upper()}_DJANGO_SETTINGS_MODULE", f"{package}.settings.dev"
                )
                for service, package in [
                    *((service, f"{service}_service") for service in SERVICES),
                    (STOREFRONT, "storefront"),
                ]
            },
            storefront_redis_url=env.get("STOREFRONT_REDIS_URL", "redis://127.0.0.1:6379/4"),
        )

    def instance_ports(self, service: str) -> list[int]:
        """The ports of a service's web instances."""
        return [self.ports[service] + 10 * n for n in range(self.web_instances)]

    def storefront_env(self) -> dict[str, str]:
        """The storefront's: its Redis, the services' APIs, Kafka as its own user."""
        return {
            "DJANGO_SETTINGS_MODULE": self.settings_modules[STOREFRONT],
            "STOREFRONT_REDIS_URL": self.storefront_redis_url,
            "ORDER_API_URL": f"http://127.0.0.1:{self.ports['order']}",
            "INVENTORY_API_URL": f"http://127.0.0.1:{self.ports['inventory']}",
            **self.kafka_env(STOREFRONT),
            "PYTHONUNBUFFERED": "1",
        }

    def service_env(self, service: str) -> dict[str, str]:
        return {
            "ORDER_DATABASE_URL": self.database_urls["order"],
            "INVENTORY_DATABASE_URL": self.database_urls["inventory"],
            "ORDER_CELERY_BROKER_URL": self.broker_urls["order"],
            "INVENTORY_CELERY_BROKER_URL": self.broker_urls["inventory"],
            **self.kafka_env(service),
            "DJANGO_SETTINGS_MODULE": self.settings_modules[service],
            "PYTHONUNBUFFERED": "1",
            # Every process of a service adds its counters here; its /metrics sums them.
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir(service)),
            # The order service signs access tokens; every service checks them.
            **(
                {"JWT_PRIVATE_KEY_FILE": str(self.signing_keys.private)}
                if service == "order"
                else {}
            ),
            "JWT_PUBLIC_KEY_FILE": str(self.signing_keys.public),
        }

    @property
    def signing_keys(self) -> KeyPairFiles:
        """The stack's development key pair (written by `stack_run` before anything starts)."""
        return KeyPairFiles(
            self.run_dir / "jwt" / PRIVATE_KEY_FILE, self.run_dir / "jwt" / PUBLIC_KEY_FILE
        )

    @property
    def kafka_bootstrap(self) -> str:
        return self.kafka_cluster.bootstrap

    def kafka_env(self, who: str = OPERATOR) -> dict[str, str]:
        """The KAFKA_* client variables of a service, or of the operator."""
        return self.kafka_cluster.client_env(self.kafka_credentials, who)

    def kafka_exported_env(self) -> dict[str, str]:
        """What a command run inside the stack needs to reach its Kafka as the stack does:
        the shape, the operator's client settings and each service's credentials."""
        shape = self.kafka_cluster.shape
        env = {
            "KAFKA_BROKERS": str(shape.brokers),
            "KAFKA_SECURITY": shape.security,
            **self.kafka_env(),
        }
        if shape.secured:
            for service in (*SERVICES, STOREFRONT):
                username, password = self.kafka_credentials.of(service)
                env[f"{service.upper()}_KAFKA_SASL_USERNAME"] = username
                env[f"{service.upper()}_KAFKA_SASL_PASSWORD"] = password
        return env

    @property
    def kafka_run_dir(self) -> Path:
        """admin.properties and ca.crt for the operator's Kafka CLI tools."""
        return self.run_dir / "kafka"

    def metrics_dir(self, service: str) -> Path:
        return self.run_dir / "metrics" / service

    @property
    def supervisord_conf(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def ready_file(self) -> Path:
        """Present while the stack is up and set up; a launcher's owner waits for it."""
        return self.run_dir / "ready"
