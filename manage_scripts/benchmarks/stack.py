"""The real stack for figures 4 and 5, started with `manage_scripts/up` like the e2e tests.

Its own databases (dropped first; `up` recreates and migrates them), Redis databases,
ports, run directory and Kafka namespace; stopped with SIGTERM at the end.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from manage_scripts.benchmarks.http_load import http_call
from manage_scripts.benchmarks.isolation import ROOT, BenchEnv
from manage_scripts.devstack import process_alive


class StackError(Exception):
    pass


class BenchStack:
    def __init__(self, bench: BenchEnv, namespace: str) -> None:
        self.bench = bench
        self.namespace = namespace
        self.run_dir = bench.stack_run_dir
        self.username = "bench"
        self.password = secrets.token_urlsafe(12)
        self.process: subprocess.Popen[bytes] | None = None
        self.tokens: dict[str, str] = {}
        self.startup_s = 0.0

    @property
    def log(self) -> Path:
        return self.run_dir / "up.log"

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
                "ORDER_PORT": str(self.bench.ports["order"]),
                "INVENTORY_PORT": str(self.bench.ports["inventory"]),
                "SAGA_RUN_DIR": str(self.run_dir),
                "DEMO_USERNAME": self.username,
                "DEMO_PASSWORD": self.password,
            }
        )
        return env

    def start(self, timeout: float = 300) -> None:
        pidfile = self.run_dir / "supervisord.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().strip() or 0)
            if pid and process_alive(pid):
                raise StackError(
                    f"a bench stack is still running from {self.run_dir} (supervisord pid {pid});"
                    " stop it first"
                )
        self.bench.databases_drop()
        self.bench.redis_flush()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [str(ROOT / "manage_scripts" / "up")],
                env=self.env(),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        for service in ("order", "inventory"):
            path = "/api/orders/" if service == "order" else "/api/products/"
            self._wait_for(f"http://127.0.0.1:{self.bench.ports[service]}{path}", started, timeout)
        self.startup_s = round(time.monotonic() - started, 1)
        for service in ("order", "inventory"):
            self.tokens[service] = self._token(service)

    def _wait_for(self, url: str, started: float, timeout: float) -> None:
        while time.monotonic() - started < timeout:
            assert self.process is not None
            if self.process.poll() is not None:
                raise StackError(
                    f"manage_scripts/up exited with {self.process.returncode}:\n"
                    + self.log.read_text()[-4000:]
                )
            try:
                with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - http only
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.5)
        raise StackError(f"{url} not up after {timeout}s:\n{self.log.read_text()[-4000:]}")

    def _token(self, service: str) -> str:
        status, body = asyncio.run(
            http_call(
                self.bench.ports[service],
                "POST",
                "/api/auth/token/",
                form={"username": self.username, "password": self.password},
            )
        )
        if status != 200:
            raise StackError(f"{service}: token request answered {status}: {body}")
        return str(body["token"])

    def supervisord_pid(self) -> int:
        return int((self.run_dir / "supervisord.pid").read_text().strip())

    def programs(self) -> dict[str, Any]:
        result = subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "supervisorctl"),
                "-c",
                str(self.run_dir / "supervisord.conf"),
                "status",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        return {
            line.split()[0]: " ".join(line.split()[1:3])
            for line in result.stdout.splitlines()
            if line.strip()
        }

    def stop(self) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
