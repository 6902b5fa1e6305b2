"""Run the real stack (`manage_scripts.stack`) for a test session, and talk to it."""

import contextlib
import dataclasses
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import requests

from manage_scripts.stack.config import ROOT
from manage_scripts.stack.launch import StackProcess
from manage_scripts.stack.supervision import supervisorctl
from shared_events.kafka.config import KafkaSettings

# ROOT stays importable from here: the fault tests take it with Api and running_stack.
__all__ = ["ROOT", "Api", "Stack", "running_stack"]


@dataclasses.dataclass
class Stack:
    order_url: str
    inventory_url: str
    gateway_url: str
    storefront_url: str  # the storefront's first web instance
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

    def gateway_stats(self) -> str:
        """HAProxy's CSV statistics, from the gateway's loopback-only frontend."""
        port = int(self.env.get("GATEWAY_INTERNAL_PORT") or int(self.env["GATEWAY_PORT"]) + 9)
        response = requests.get(f"http://127.0.0.1:{port}/gateway/stats;csv", timeout=5)
        response.raise_for_status()
        return response.text

    def state(self, program: str) -> str:
        """RUNNING, STARTING, STOPPED, BACKOFF, EXITED, ... as supervisord reports it."""
        fields = self.supervisorctl("status", program).split()
        return fields[1] if len(fields) > 1 else "UNKNOWN"


# Tests drive the stack faster than one shop customer would: throttles far above their load
# (tests/order_service tests the throttles themselves), tokens that outlast a test.
TEST_STACK_ENV = {
    **{
        f"THROTTLE_RATE_{scope}": "100000/min"
        for scope in ("ORDER_CREATE", "ANON_READ", "CREDENTIALS_IP", "CREDENTIALS_USER")
    },
    "THROTTLE_RATE_REGISTER_IP": "10000/min",
    "JWT_ACCESS_MINUTES": "60",
}


@contextlib.contextmanager
def running_stack(
    *, env: dict[str, str], namespace: str, run_dir: Path, storefront: bool = True
) -> Iterator[Stack]:
    """Start a stack with `env` on top of ours; stop it with SIGTERM after.

    Suites that never reach the storefront leave it out: fewer processes on a small machine.
    """
    env = {"KAFKA_NAMESPACE": namespace, "SAGA_RUN_DIR": str(run_dir), **TEST_STACK_ENV, **env}
    args = () if storefront else ("--no-storefront",)
    with StackProcess(env, args=args) as process:
        yield Stack(
            order_url=f"http://127.0.0.1:{env['ORDER_PORT']}",
            inventory_url=f"http://127.0.0.1:{env['INVENTORY_PORT']}",
            gateway_url=f"http://127.0.0.1:{process.config.ports['gateway']}",
            storefront_url=f"http://127.0.0.1:{env.get('STOREFRONT_PORT', '8003')}",
            namespace=namespace,
            kafka=KafkaSettings.from_env(process.env, namespace=namespace),
            run_dir=run_dir,
            env=process.env,
        )


class Api:
    """A client of one service with a bearer access token from the order service.

    It logs in again when a token has expired (a 401), and sends the request once more.
    """

    def __init__(
        self, base_url: str, *, username: str, password: str, auth_url: str | None = None
    ) -> None:
        self.base_url = base_url
        self.auth_url = auth_url or base_url
        self.username, self.password = username, password
        self.session = requests.Session()
        self.user_id = self.log_in()

    @classmethod
    def registered(cls, order_url: str, *, username: str, base_url: str | None = None) -> "Api":
        """A client of a new customer account."""
        password = f"{username}-{uuid.uuid4().hex}"
        response = requests.post(
            f"{order_url}/api/auth/register/",
            json={"username": username, "password": password},
            timeout=10,
        )
        assert response.status_code == 201, f"register: {response.status_code} {response.text}"
        return cls(base_url or order_url, username=username, password=password, auth_url=order_url)

    def log_in(self) -> str:
        """Get a new access token; the user id it names."""
        response = requests.post(
            f"{self.auth_url}/api/auth/token/",
            json={"username": self.username, "password": self.password},
            timeout=10,
        )
        response.raise_for_status()
        access = response.json()["access"]
        self.session.headers["Authorization"] = f"Bearer {access}"
        return str(jwt.decode(access, options={"verify_signature": False})["user_id"])

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        response = self.session.request(method, f"{self.base_url}{path}", timeout=10, **kwargs)
        if response.status_code == 401:
            self.log_in()
            response = self.session.request(method, f"{self.base_url}{path}", timeout=10, **kwargs)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None) -> requests.Response:
        return self.request("POST", path, json=json)

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
