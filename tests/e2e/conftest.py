"""Start the real stack with `manage_scripts/up`, isolated from a developer's own stack.

It gets its own databases, Redis databases, ports, run directory and a Kafka namespace,
and reuses whatever PostgreSQL, Redis and Kafka are already running (or starts them).
"""

import dataclasses
import os
import signal
import subprocess
import time
import urllib.parse
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests
from psycopg2 import sql

from shared_events.kafka.config import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]
PG = os.environ.get("E2E_POSTGRES_URL", "postgres://saga:saga@127.0.0.1:5432")
REDIS = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379")


@dataclasses.dataclass
class Stack:
    order_url: str
    inventory_url: str
    namespace: str
    kafka: KafkaSettings
    run_dir: Path

    def topic(self, base: str) -> str:
        return f"{self.namespace}{base}"

    def supervisorctl(self, *args: str) -> str:
        return subprocess.run(
            [
                str(ROOT / ".venv/bin/supervisorctl"),
                "-c",
                str(self.run_dir / "supervisord.conf"),
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout


def _recreate_databases(names: list[str]) -> None:
    parsed = urllib.parse.urlsplit(PG)
    conn = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
    )
    conn.autocommit = True
    with conn.cursor() as cursor:
        for name in names:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    conn.close()


def _wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"manage_scripts/up exited with {process.returncode}:\n{log.read_text()[-4000:]}"
            )
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not up after {timeout}s:\n{log.read_text()[-4000:]}")


# Two e2e runs side by side need other ports and Redis databases.
ORDER_PORT = int(os.environ.get("E2E_ORDER_PORT", "18001"))
INVENTORY_PORT = ORDER_PORT + 1
REDIS_DBS = os.environ.get("E2E_REDIS_DBS", "2,3").split(",")


@pytest.fixture(scope="session")
def stack():
    namespace = f"e2e-{uuid.uuid4().hex[:8]}."
    run_dir = ROOT / ".run" / f"e2e-{ORDER_PORT}"
    databases = [f"e2e_{ORDER_PORT}_order_service", f"e2e_{ORDER_PORT}_inventory_service"]
    _recreate_databases(databases)
    env = {
        **os.environ,
        "KAFKA_NAMESPACE": namespace,
        "ORDER_DATABASE_URL": f"{PG}/{databases[0]}",
        "INVENTORY_DATABASE_URL": f"{PG}/{databases[1]}",
        "ORDER_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[0]}",
        "INVENTORY_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[1]}",
        "ORDER_PORT": str(ORDER_PORT),
        "INVENTORY_PORT": str(INVENTORY_PORT),
        "SAGA_RUN_DIR": str(run_dir),
        "DEMO_USERNAME": "e2e",
        "DEMO_PASSWORD": "e2e-password",
    }
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(ROOT / "manage_scripts" / "up")],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        order_url = f"http://127.0.0.1:{ORDER_PORT}"
        inventory_url = f"http://127.0.0.1:{INVENTORY_PORT}"
        _wait_for(f"{order_url}/api/orders/", process, log)
        _wait_for(f"{inventory_url}/api/products/", process, log)
        yield Stack(
            order_url=order_url,
            inventory_url=inventory_url,
            namespace=namespace,
            kafka=KafkaSettings.from_env(namespace=namespace),
            run_dir=run_dir,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def _token(base_url: str) -> str:
    response = requests.post(
        f"{base_url}/api/auth/token/",
        data={"username": "e2e", "password": "e2e-password"},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["token"]


@pytest.fixture(scope="session")
def orders(stack):
    return _Api(stack.order_url, _token(stack.order_url))


@pytest.fixture(scope="session")
def inventory(stack):
    return _Api(stack.inventory_url, _token(stack.inventory_url))


class _Api:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def get(self, path: str, **kwargs) -> requests.Response:  # type: ignore[no-untyped-def]
        return self.session.get(f"{self.base_url}{path}", timeout=10, **kwargs)

    def post(self, path: str, json=None) -> requests.Response:  # type: ignore[no-untyped-def]
        return self.session.post(f"{self.base_url}{path}", json=json, timeout=10)

    def wait_for(self, path: str, condition, timeout: float = 30.0) -> dict:  # type: ignore[no-untyped-def]
        """GET `path` until `condition(body)` holds; fail with the last body."""
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.get(path).json()
            if condition(body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"{path} did not reach the expected state in {timeout}s: {body}")
