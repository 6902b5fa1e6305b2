"""The real stack for figures 4 and 5, started through `manage_scripts.stack` like the e2e tests.

Its own databases (dropped first; the launcher recreates and migrates them), Redis databases,
ports, run directory and Kafka namespace; stopped with SIGTERM at the end, and with the
bench if the bench is killed.
"""

import asyncio
import os
import secrets
import time
from pathlib import Path
from typing import Any

from manage_scripts.benchmarks.http_load import http_call
from manage_scripts.benchmarks.isolation import BenchEnv
from manage_scripts.stack import StackError
from manage_scripts.stack.launch import StackProcess
from manage_scripts.stack.supervision import (
    supervisorctl,
    supervisord_absent_check,
    supervisord_pid,
)


class BenchStack:
    def __init__(self, bench: BenchEnv, namespace: str) -> None:
        self.bench = bench
        self.namespace = namespace
        self.run_dir = bench.stack_run_dir
        self.username = "bench"
        self.password = secrets.token_urlsafe(12)
        self.process = StackProcess(self.env())
        self.tokens: dict[str, str] = {}
        self.startup_s = 0.0

    def program_log(self, program: str) -> Path:
        return self.run_dir / "logs" / f"{program}.log"

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DJANGO_SETTINGS_MODULE", "SAGA_TEST_INSIDE_STACK")
        }
        env.update(
            {
                "KAFKA_NAMESPACE": self.namespace,
                "KAFKA_BOOTSTRAP_SERVERS": self.bench.kafka_bootstrap,
                "ORDER_DATABASE_URL": self.bench.database_url("order"),
                "INVENTORY_DATABASE_URL": self.bench.database_url("inventory"),
                "ORDER_CELERY_BROKER_URL": self.bench.redis_url("order"),
                "INVENTORY_CELERY_BROKER_URL": self.bench.redis_url("inventory"),
                "STOREFRONT_REDIS_URL": self.bench.redis_url("storefront"),
                "ORDER_PORT": str(self.bench.ports["order"]),
                "INVENTORY_PORT": str(self.bench.ports["inventory"]),
                "GATEWAY_PORT": str(self.bench.ports["gateway"]),
                "STOREFRONT_PORT": str(self.bench.ports["storefront"]),
                # One client at many times a person's rate: the gateway's limit stays out of it.
                "GATEWAY_RATE_LIMIT": "100000000",
                "SAGA_RUN_DIR": str(self.run_dir),
                "DEMO_USERNAME": self.username,
                "DEMO_PASSWORD": self.password,
                # The bench is one client at many times a customer's rate, for longer than an
                # access token lives.
                "THROTTLE_RATE_ORDER_CREATE": "1000000/min",
                "THROTTLE_RATE_ANON_READ": "1000000/min",
                "JWT_ACCESS_MINUTES": "240",
            }
        )
        return env

    def start(self, timeout: float = 300) -> None:
        # Before dropping anything: the databases may belong to a stack still running.
        supervisord_absent_check(self.run_dir)
        self.bench.databases_drop()
        self.bench.redis_flush()
        started = time.monotonic()
        self.process.start(timeout=timeout)
        self.startup_s = round(time.monotonic() - started, 1)
        # One access token from the order service, accepted by both.
        token = self._access_token()
        self.tokens = {"order": token, "inventory": token}

    def _access_token(self) -> str:
        status, body = asyncio.run(
            http_call(
                self.bench.ports["order"],
                "POST",
                "/api/auth/token/",
                payload={"username": self.username, "password": self.password},
            )
        )
        if status != 200:
            raise StackError(f"order: token request answered {status}: {body}")
        return str(body["access"])

    def supervisord_pid(self) -> int:
        pid = supervisord_pid(self.run_dir)
        if pid is None:
            raise StackError(f"no supervisord running from {self.run_dir}")
        return pid

    def programs(self) -> dict[str, Any]:
        status = supervisorctl(self.process.config.supervisord_conf, "status").stdout
        return {
            line.split()[0]: " ".join(line.split()[1:3])
            for line in status.splitlines()
            if line.strip()
        }

    def stop(self) -> int | None:
        return self.process.stop()
