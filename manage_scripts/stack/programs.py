"""The programs supervisord runs: local servers for whatever is not reachable already, and
every process of both services."""

import dataclasses
import os
import shutil
from pathlib import Path

from manage_scripts.stack import StackError, log
from manage_scripts.stack.config import PYTHON, ROOT, SERVICES, VENV_BIN, StackConfig
from manage_scripts.stack.kafka_cluster import STOREFRONT, tls_ensure
from manage_scripts.stack.probes import host_port, kafka_ready, postgres_ready, tcp_open
from manage_scripts.stack.provision import (
    KafkaServer,
    PostgresCluster,
    apt_install,
    kafka_server_ensure,
    kafka_servers_ensure,
    postgres_cluster_ensure,
)


@dataclasses.dataclass
class Program:
    name: str
    command: list[str]
    group: str  # "infra" starts with supervisord, "apps" once the services are set up
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    user: str | None = None
    stopsignal: str = "TERM"
    stopwaitsecs: int = 20
    directory: Path = ROOT


def infra_programs(config: StackConfig) -> list[Program]:
    """Local servers for whatever is not reachable already."""
    programs = []
    data = config.data_dir
    pg_urls = {host_port(u, 5432): u for u in config.database_urls.values()}
    for (host, port), url in pg_urls.items():
        if postgres_ready(url):
            log(f"using PostgreSQL at {host}:{port}")
            continue
        if tcp_open(host, port):
            raise StackError(
                f"PostgreSQL at {host}:{port} refused {url!r}; set the *_DATABASE_URL "
                "variables to a server and role that work"
            )
        programs.append(postgres_program(postgres_cluster_ensure(data / "postgres", url), port))
    for host, port in {host_port(u, 6379) for u in config.broker_urls.values()}:
        if tcp_open(host, port):
            log(f"using Redis at {host}:{port}")
            continue
        programs.append(redis_program(data / "redis", port))
    if config.kafka_cluster.shape.secured:
        tls_ensure(config.kafka_cluster.tls)  # the probe's client needs the CA already
    if kafka_ready(config.kafka_env()):
        log(f"using Kafka at {config.kafka_bootstrap}")
    else:
        servers = kafka_servers_ensure(config.kafka_cluster, config.kafka_credentials)
        programs += [kafka_server_program(server) for server in servers]
    return programs


def postgres_program(cluster: PostgresCluster, port: int) -> Program:
    return Program(
        "postgres",
        [
            str(cluster.bindir / "postgres"),
            "-D",
            str(cluster.data),
            "-p",
            str(port),
            "-k",
            str(cluster.base),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            "-c",
            # PostgreSQL's default (128MB) cannot hold the outbox's indexes once it keeps a
            # million published rows, and the relay slows (docs/performance.md).
            f"shared_buffers={_shared_buffers_mb()}MB",
            "-c",
            "fsync=on",
            "-c",
            "synchronous_commit=on",
        ],
        group="infra",
        user=cluster.user,
        directory=cluster.base,
        stopsignal="INT",
        stopwaitsecs=30,
    )


def _shared_buffers_mb() -> int:
    """A quarter of the memory, as PostgreSQL's documentation suggests, at most 1 GB."""
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return max(128, min(memory_mb // 4, 1024))


def redis_program(data: Path, port: int) -> Program:
    if not shutil.which("redis-server"):
        apt_install(["redis-server"])
    data.mkdir(parents=True, exist_ok=True)
    redis = f"redis-server --bind 127.0.0.1 --port {port} --appendonly no --dir"
    return Program("redis", [*redis.split(), str(data), "--save", ""], group="infra")


def kafka_program(base: Path, bootstrap: str) -> Program:
    """One plaintext node of its own under `base` (tests that take a broker away)."""
    return kafka_server_program(kafka_server_ensure(base, bootstrap))


def kafka_server_program(server: KafkaServer) -> Program:
    return Program(
        server.name,
        [*server.java, "kafka.Kafka", str(server.properties)],
        group="infra",
        stopwaitsecs=30,
    )


# fmt: off
def app_programs(config: StackConfig) -> list[Program]:
    programs = []
    run = config.run_dir
    celery = str(VENV_BIN / "celery")
    for service in SERVICES:
        env = config.service_env(service)
        package = f"{service}_service"
        manage = [PYTHON, str(ROOT / package / "manage.py")]
        programs += [
            Program(f"{service}-web", [
                str(VENV_BIN / "gunicorn"), f"{package}.wsgi:application",
                "--bind", f"127.0.0.1:{config.ports[service]}",
                # No access log: every request is logged by the app, with its correlation id.
                "--workers", str(config.web_workers),
            ], group="apps", env=env),
            Program(f"{service}-worker", [
                celery, "-A", package, "worker", "--loglevel", "INFO", "--concurrency", "2",
                "--hostname", f"{service}@%%h",
            ], group="apps", env=env),
            Program(f"{service}-beat", [
                celery, "-A", package, "beat", "--loglevel", "INFO",
                "--schedule", str(run / f"{service}-beat-schedule"),
            ], group="apps", env=env),
        ]
        # Relays each commit's outbox rows at once (PostgreSQL NOTIFY); beat's sweep is the net.
        programs.append(Program(
            f"{service}-relay", [*manage, "relay_outbox", "--follow"], group="apps", env=env,
        ))
        for n in range(1, config.consumers + 1):
            programs.append(Program(
                f"{service}-consumer" + (f"-{n}" if n > 1 else ""),
                [*manage, "consume_events"],
                group="apps", env=env,
            ))
        # Stores <topic>.dlq messages for the admin's dead letters (browse, replay).
        programs.append(Program(
            f"{service}-dead-letters", [*manage, "consume_dead_letters"], group="apps", env=env,
        ))
    return programs + storefront_programs(config)


def storefront_programs(config: StackConfig) -> list[Program]:
    """The storefront's ASGI web instances (they serve the live order streams too) and the
    consumer that feeds those streams."""
    env = config.storefront_env()
    programs = [
        Program(f"storefront-web-{n}", [
            str(VENV_BIN / "uvicorn"), "storefront.asgi:application",
            "--host", "127.0.0.1", "--port", str(port),
            "--no-access-log", "--timeout-graceful-shutdown", "5",
        ], group="apps", env=env, stopwaitsecs=10)
        for n, port in enumerate(config.instance_ports(STOREFRONT), start=1)
    ]
    programs.append(Program(
        "storefront-consumer",
        [PYTHON, str(ROOT / "storefront" / "manage.py"), "consume_order_events"],
        group="apps", env=env,
    ))
    return programs
# fmt: on
