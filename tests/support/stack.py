"""Run the real stack (`manage_scripts.stack`) for a test session, and talk to it."""

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import requests

from manage_scripts.stack.config import ROOT
from manage_scripts.stack.launch import StackProcess
from manage_scripts.stack.supervision import supervisorctl
from shared_events.kafka.config import KafkaSettings

__all__ = ["ROOT", "Api", "Stack", "running_stack"]


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
        return supervisorctl(self.run_dir / "supervisord.conf", *args).stdout

    def supervise(self, *args: str) -> str:
        """Run supervisorctl and fail unless it succeeded: a fault not injected must not pass."""
        result = supervisorctl(self.run_dir / "supervisord.conf", *args)
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


@contextlib.contextmanager
def running_stack(*, env: dict[str, str], namespace: str, run_dir: Path) -> Iterator[Stack]:
    """Start a stack with `env` on top of ours; stop it with SIGTERM after."""
    env = {"KAFKA_NAMESPACE": namespace, "SAGA_RUN_DIR": str(run_dir), **env}
    with StackProcess(env) as process:
        yield Stack(
            order_url=f"http://127.0.0.1:{env['ORDER_PORT']}",
            inventory_url=f"http://127.0.0.1:{env['INVENTORY_PORT']}",
            namespace=namespace,
            kafka=KafkaSettings.from_env(process.env, namespace=namespace),
            run_dir=run_dir,
            env=process.env,
        )


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
