"""Run the real stack (`manage_scripts/up`) for a test session, and talk to it."""

import contextlib
import ctypes
import dataclasses
import os
import signal
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
import requests
from psycopg2 import sql

from shared_events.kafka.config import KafkaSettings

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass
class Stack:
    order_url: str
    inventory_url: str
    namespace: str
    kafka: KafkaSettings
    run_dir: Path
    env: dict[str, str]

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

    def supervise(self, *args: str) -> str:
        """Run supervisorctl and fail unless it succeeded: a fault not injected must not pass."""
        result = subprocess.run(
            [
                str(ROOT / ".venv/bin/supervisorctl"),
                "-c",
                str(self.run_dir / "supervisord.conf"),
                *args,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0 and "ERROR" not in output, (
            f"supervisorctl {' '.join(args)} exited {result.returncode}: {output.strip()}"
        )
        return output

    def pid(self, program: str) -> int:
        return int(self.supervisorctl("pid", program).strip() or 0)

    def state(self, program: str) -> str:
        """RUNNING, STARTING, STOPPED, BACKOFF, EXITED, ... as supervisord reports it."""
        fields = self.supervisorctl("status", program).split()
        return fields[1] if len(fields) > 1 else "UNKNOWN"


def recreate_databases(server_url: str, names: list[str]) -> None:
    parsed = urllib.parse.urlsplit(server_url)
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


def _stop_with_parent() -> None:
    """In the child: get SIGTERM if the test process dies, so no stack outlives it."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@contextlib.contextmanager
def running_stack(*, env: dict[str, str], namespace: str, run_dir: Path) -> Iterator[Stack]:
    """Start `manage_scripts/up` with `env` on top of ours; stop it with SIGTERM after."""
    env = {**os.environ, "KAFKA_NAMESPACE": namespace, "SAGA_RUN_DIR": str(run_dir), **env}
    run_dir.mkdir(parents=True, exist_ok=True)
    log = run_dir / "up.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(ROOT / "manage_scripts" / "up")],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_stop_with_parent,
        )
    try:
        order_url = f"http://127.0.0.1:{env['ORDER_PORT']}"
        inventory_url = f"http://127.0.0.1:{env['INVENTORY_PORT']}"
        _wait_for(f"{order_url}/api/orders/", process, log)
        _wait_for(f"{inventory_url}/api/products/", process, log)
        kafka = KafkaSettings.from_env(env, namespace=namespace)
        yield Stack(
            order_url=order_url,
            inventory_url=inventory_url,
            namespace=namespace,
            kafka=kafka,
            run_dir=run_dir,
            env=env,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


class Api:
    """A token-authenticated client of one service."""

    def __init__(self, base_url: str, *, username: str, password: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        response = requests.post(
            f"{base_url}/api/auth/token/",
            data={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        self.session.headers["Authorization"] = f"Token {response.json()['token']}"

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(f"{self.base_url}{path}", timeout=10, **kwargs)

    def post(self, path: str, json: Any = None) -> requests.Response:
        return self.session.post(f"{self.base_url}{path}", json=json, timeout=10)

    def wait_for(self, path: str, condition: Callable[[dict], bool], timeout: float = 30.0) -> dict:
        """GET `path` until `condition(body)` holds; fail with the last body."""
        deadline = time.monotonic() + timeout
        body: dict = {}
        while time.monotonic() < deadline:
            body = self.get(path).json()
            if condition(body):
                return body
            time.sleep(0.05)
        raise AssertionError(f"{path} did not reach the expected state in {timeout}s: {body}")
