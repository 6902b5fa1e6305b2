"""Run a stack: in this process (`stack_run`, the command line's), or as a child process
owned by a test session or the bench (`StackProcess`), which dies with its owner."""

import functools
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from manage_scripts.stack import StackError, log
from manage_scripts.stack.config import PYTHON, ROOT, SERVICES, StackConfig
from manage_scripts.stack.gateway import gateway_program, gateway_ready
from manage_scripts.stack.kafka_cluster import STOREFRONT
from manage_scripts.stack.probes import (
    http_ready,
    kafka_ready,
    postgres_ready,
    redis_ready,
    wait_until,
)
from manage_scripts.stack.programs import Program, app_programs, infra_programs
from manage_scripts.stack.provision import kafka_admin_files, services_setup
from manage_scripts.stack.supervision import Supervisor, die_with_parent, supervisord_conf
from service_platform.signing_keys import key_pair_files_ensure


def stack_run(
    config: StackConfig, *, infra_only: bool, demo: bool, then: list[str], storefront: bool = True
) -> int:
    """Start what is missing, set the services up, then run `then` or wait for a signal.

    Without `storefront`, the gateway serves the APIs alone (its other paths answer 503).
    """
    config.run_dir.mkdir(parents=True, exist_ok=True)
    config.ready_file.unlink(missing_ok=True)
    key_pair_files_ensure(config.signing_keys.private.parent)
    supervisor: Supervisor | None = None
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        log(f"received {signal.Signals(signum).name}")
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        infra = infra_programs(config)
        apps = [] if infra_only else stack_apps(config, storefront=storefront)
        supervisor = Supervisor(config, supervisord_conf(config, infra + apps))
        supervisor.start()
        pg_url = next(iter(config.database_urls.values()))
        wait_until("PostgreSQL", lambda: postgres_ready(pg_url), timeout=60)
        wait_until(
            "Redis", lambda: all(redis_ready(u) for u in config.broker_urls.values()), timeout=30
        )
        wait_until("Kafka", lambda: kafka_ready(config.kafka_env()), timeout=120)
        metrics_dirs_reset(config)
        services_setup(config, demo=demo and not infra_only)
        admin_file = kafka_admin_files(config)
        if apps:
            # The services first: the storefront calls them, and Django processes that all
            # boot at once on a small machine keep each other from answering in time.
            storefront_apps = [p for p in apps if p.name.startswith(STOREFRONT)]
            supervisor.start_programs([p for p in apps if p not in storefront_apps])
            for service in SERVICES:
                for n, port in enumerate(config.instance_ports(service), start=1):
                    ready = functools.partial(http_ready, port)
                    wait_until(f"{service} web {n}", ready, timeout=120)
            if storefront_apps:
                supervisor.start_programs(storefront_apps)
                for n, port in enumerate(config.instance_ports(STOREFRONT), start=1):
                    ready = functools.partial(http_ready, port, "/health/ready")
                    wait_until(f"storefront web {n}", ready, timeout=120)
            supervisor.start_group("gateway")
            # Every instance of both services in rotation (the storefront's are not waited for).
            wait_until("the gateway", lambda: gateway_ready(config), timeout=30)
            print(summary(config, infra, apps), flush=True)
        else:
            log("infrastructure ready")
        log(f"Kafka CLI settings (--command-config): {admin_file}")
        if config.kafka_cluster.shape.secured:
            log(f"Kafka CA certificate: {admin_file.parent / 'ca.crt'}")
        config.ready_file.touch()
        if then:
            # The command reaches Kafka as the stack does: its shape, address and operator.
            env = {**os.environ, **config.kafka_exported_env()}
            return subprocess.run(then, cwd=ROOT, env=env, preexec_fn=die_with_parent).returncode
        return supervisor.wait()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        command = shlex.join(map(str, exc.cmd))
        print(f"error: {command} exited with {exc.returncode}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0 if stopping else 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        config.ready_file.unlink(missing_ok=True)
        if supervisor is not None:
            supervisor.stop()


def stack_apps(config: StackConfig, *, storefront: bool) -> list[Program]:
    """The services' processes and the gateway, with the storefront's or without."""
    apps = [*app_programs(config), gateway_program(config)]
    return apps if storefront else [p for p in apps if not p.name.startswith(STOREFRONT)]


def metrics_dirs_reset(config: StackConfig) -> None:
    """Start each service's multiprocess metrics afresh (files of old processes would count)."""
    for service in SERVICES:
        shutil.rmtree(config.metrics_dir(service), ignore_errors=True)
        config.metrics_dir(service).mkdir(parents=True)


def summary(config: StackConfig, infra: list[Program], apps: list[Program]) -> str:
    started = ", ".join(p.name for p in infra) or "none (all were already running)"
    o, i, g = config.ports["order"], config.ports["inventory"], config.ports["gateway"]
    user = os.environ.get("DEMO_USERNAME", "demo")
    password = os.environ.get("DEMO_PASSWORD", "demo")
    admin = config.kafka_run_dir / "admin.properties"
    shape = config.kafka_cluster.shape
    with_storefront = any(p.name.startswith(STOREFRONT) for p in apps)
    storefront = f"http://127.0.0.1:{g}/" if with_storefront else "not started (--no-storefront)"
    return f"""
  Storefront         {storefront}
  API gateway        http://127.0.0.1:{g}/api/   (docs: http://127.0.0.1:{g}/api/docs/)
  Instances          {config.web_instances} per service; in rotation: http://127.0.0.1:{config.ports["gateway_internal"]}/gateway/stats
  Order Service      http://127.0.0.1:{o}/api/orders/     admin: http://127.0.0.1:{o}/admin/
  Inventory Service  http://127.0.0.1:{i}/api/products/   admin: http://127.0.0.1:{i}/admin/
  Login              {user} / {password}   (set DEMO_USERNAME / DEMO_PASSWORD to change)
  Access token       POST http://127.0.0.1:{o}/api/auth/token/ {{"username", "password"}}
  Operations         /health/ready  /metrics  /api/docs/ (both services)
  Kafka status       python order_service/manage.py kafka_status --command-config {admin}
  Kafka              {config.kafka_bootstrap}  ({shape.brokers} node(s), {shape.security})
  Kafka CLI          manage_scripts/kafka-cli kafka-topics --describe --command-config {admin}
  Started locally    {started}
  Logs               {config.run_dir / "logs"}/<process>.log
  Processes          {", ".join(p.name for p in apps)}
  Stop               Ctrl-C (or SIGTERM to this process)
"""


class StackProcess:
    """`python -m manage_scripts.stack` as a child of this process, with `env` over ours.

    `start` returns once the stack is up and set up (web servers answering, unless
    `--infra-only` is among `args`); `stop` sends SIGTERM and waits for everything to stop.
    If this process dies first, the kernel sends the child SIGTERM (see die_with_parent).
    """

    def __init__(self, env: Mapping[str, str], *, args: tuple[str, ...] = ()) -> None:
        self.env = {**os.environ, **env}
        self.args = args
        self.config = StackConfig.from_env(self.env)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def run_dir(self) -> Path:
        return self.config.run_dir

    @property
    def log(self) -> Path:
        """The launcher's own output."""
        return self.run_dir / "up.log"

    def start(self, *, timeout: float = 240) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.config.ready_file.unlink(missing_ok=True)
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "manage_scripts.stack", *self.args],
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while not self.config.ready_file.exists():
            if self.process.poll() is not None:
                raise StackError(
                    f"the stack exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise StackError(f"the stack was not up after {timeout:.0f}s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text()[-chars:] if self.log.exists() else ""

    def stop(self, *, timeout: float = 120) -> int | None:
        """Stop the stack; its exit status (None if it never started)."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def __enter__(self) -> "StackProcess":
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
