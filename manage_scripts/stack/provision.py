"""What must exist before a program can start: Debian packages, Kafka's jars, a PostgreSQL
cluster, formatted Kafka storage, the services' databases, migrations and topics."""

import contextlib
import dataclasses
import glob
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from manage_scripts.stack import StackError, log
from manage_scripts.stack.config import KAFKA_DIR, PYTHON, ROOT, SERVICES, StackConfig
from manage_scripts.stack.kafka_cluster import (
    STOREFRONT,
    Credentials,
    KafkaCluster,
    KafkaShape,
    admin_properties,
    node_properties,
    storage_format,
    tls_ensure,
)

# --- packages and jars -----------------------------------------------------------------


def apt_install(packages: list[str]) -> None:
    """Install Debian packages as root, or say exactly how to."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StackError(f"missing {', '.join(packages)}: install with: sudo {shlex.join(command)}")
    log(f"installing {' '.join(packages)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)


def kafka_libs() -> Path:
    """The broker's jars, fetched from Maven Central once into .cache/."""
    version = _pom_property("kafka.version")
    libs = ROOT / ".cache" / "kafka" / version / "libs"
    done = libs.parent / ".complete"
    if done.exists():
        return libs
    if not shutil.which("mvn"):
        apt_install(["maven"])
    log(f"fetching Apache Kafka {version} jars from Maven Central")
    subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-Dstyle.color=never",
            "-f",
            str(KAFKA_DIR / "pom.xml"),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={libs}",
        ],
        check=True,
    )
    done.touch()
    return libs


def _pom_property(name: str) -> str:
    text = (KAFKA_DIR / "pom.xml").read_text()
    start = text.index(f"<{name}>") + len(name) + 2
    return text[start : text.index(f"</{name}>")]


# --- a local PostgreSQL cluster --------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PostgresCluster:
    bindir: Path
    base: Path  # holds the data folder and the server's Unix socket
    user: str | None  # whom the server runs as; None for the current user

    @property
    def data(self) -> Path:
        return self.base / "data"


def postgres_cluster_ensure(base: Path, url: str) -> PostgresCluster:
    """A cluster under `base` whose superuser is the role of `url`, created if missing."""
    bindir = _postgres_bindir()
    if bindir is None:
        apt_install(["postgresql"])
        bindir = _postgres_bindir()
        assert bindir is not None
    parsed = urllib.parse.urlsplit(url)
    user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
    if user and not _reachable_by(user, base.parent):
        # A checkout under a private folder (mode 700) is closed to the postgres user.
        digest = hashlib.sha256(str(base).encode()).hexdigest()[:12]
        base = Path("/var/lib/postgresql") / f"saga-{digest}"
        log(f"{user} cannot reach the checkout; keeping the PostgreSQL cluster in {base}")
    cluster = PostgresCluster(bindir=bindir, base=base, user=user)
    if not (cluster.data / "PG_VERSION").exists():
        log(f"creating a PostgreSQL cluster in {cluster.data}")
        base.mkdir(parents=True, exist_ok=True)
        password_file = base / "initdb-password"
        password_file.write_text(parsed.password or "saga")
        if user:
            shutil.chown(base, user)
            shutil.chown(password_file, user)
        _run_as(
            user,
            [
                str(bindir / "initdb"),
                "-D",
                str(cluster.data),
                "-U",
                parsed.username or "saga",
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        )
        password_file.unlink()
    return cluster


def _postgres_bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    return Path(candidates[-1]).parent if candidates else None


def _reachable_by(user: str, folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    probe = ["runuser", "-u", user, "--", "test", "-x", str(folder)]
    return subprocess.run(probe, check=False).returncode == 0


def _run_as(user: str | None, command: list[str]) -> None:
    prefix = ["runuser", "-u", user, "--"] if user else []
    # From "/": the other user may not be allowed into the current folder.
    subprocess.run(prefix + command, check=True, stdout=subprocess.DEVNULL, cwd="/")


# --- a local Kafka cluster -------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KafkaServer:
    name: str
    java: list[str]  # the JVM with the broker's classpath and logging
    properties: Path


def kafka_java(logs: Path) -> list[str]:
    """The JVM with Kafka's jars (the CLI tools' too) and the project's logging."""
    if not shutil.which("java"):
        apt_install(["openjdk-17-jre-headless"])
    libs = kafka_libs()
    return [
        "java",
        "-Xms256m",
        "-Xmx1g",
        "-XX:+UseG1GC",
        "-cp",
        f"{libs}/*",
        f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.yaml'}",
        f"-Dkafka.logs.dir={logs}",
    ]


def kafka_servers_ensure(cluster: KafkaCluster, credentials: Credentials) -> list[KafkaServer]:
    """Each node's files: certificates, properties, and storage formatted if new."""
    if cluster.shape.secured:
        tls_ensure(cluster.tls)
    servers = []
    nodes = cluster.nodes
    for node in nodes:
        node.logs.mkdir(parents=True, exist_ok=True)
        node.properties.write_text(node_properties(cluster, node, credentials))
        java = kafka_java(node.logs)
        storage_format(java, cluster, node, credentials)
        name = node.name if len(nodes) > 1 else "kafka"
        servers.append(KafkaServer(name=name, java=java, properties=node.properties))
    return servers


def kafka_server_ensure(base: Path, bootstrap: str) -> KafkaServer:
    """A single plaintext node's files under `base`, its storage formatted if new."""
    cluster = KafkaCluster(
        shape=KafkaShape(brokers=1, security="PLAINTEXT", mechanism="SCRAM-SHA-512"),
        bootstrap=bootstrap.split(",")[0],
        base=base,
    )
    [server] = kafka_servers_ensure(cluster, Credentials({}))
    return server


# --- the services' databases, schema, topics and demo data ----------------------------


@contextlib.contextmanager
def _server_connection(database_url: str) -> Iterator[Any]:
    """An autocommit connection to the `postgres` database of `database_url`'s server."""
    import psycopg2

    parsed = urllib.parse.urlsplit(database_url)
    conn = psycopg2.connect(
        host=parsed.hostname,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        dbname="postgres",
    )
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


def _database_name(database_url: str) -> str:
    return urllib.parse.urlsplit(database_url).path.lstrip("/")


def databases_ensure(database_urls: Iterable[str]) -> None:
    """Create each URL's database unless it exists."""
    from psycopg2 import sql

    for url in database_urls:
        name = _database_name(url)
        with _server_connection(url) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log(f"created database {name}")


def databases_drop(database_urls: Iterable[str]) -> None:
    """Drop each URL's database if it exists, disconnecting its sessions."""
    from psycopg2 import sql

    for url in database_urls:
        name = sql.Identifier(_database_name(url))
        with _server_connection(url) as conn, conn.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def manage(
    config: StackConfig, service: str, *args: str, env: dict[str, str] | None = None
) -> None:
    """Run one of `service`'s management commands (`env` over its own); output to our log."""
    result = subprocess.run(
        [PYTHON, str(ROOT / f"{service}_service" / "manage.py"), *args],
        env={**os.environ, **config.service_env(service), **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise StackError(f"{service}_service/manage.py {' '.join(args)} failed")
    for line in result.stdout.splitlines():
        if line.strip() and not line.startswith(("  Apply", "Operations", "Running migrations")):
            log(f"{service}: {line.strip()}")


def services_setup(config: StackConfig, *, demo: bool) -> None:
    """Databases, migrations and topics; with `demo`, demo products and a user to log in as."""
    databases_ensure(config.database_urls.values())
    for service in SERVICES:
        manage(config, service, "migrate", "--no-input")
    # The operator creates topics and grants; the services may do neither.
    manage(config, "order", "create_topics", env=config.kafka_env())
    if config.kafka_cluster.shape.secured:
        service_acls_grant(config)
    if demo:
        manage(config, "inventory", "seed_demo_products")
        for service in SERVICES:
            manage(config, service, "ensure_demo_user")


def service_acls_grant(config: StackConfig) -> None:
    """Each service's least-privilege ACLs, for its own user, in this stack's namespace, and
    the storefront's (read the order events)."""
    from shared_events.kafka.acls import acls_grant, service_acls, storefront_acls
    from shared_events.kafka.config import KafkaSettings

    operator = KafkaSettings.from_env({**os.environ, **config.kafka_env()})
    bindings = []
    for service in SERVICES:
        username, _password = config.kafka_credentials.of(service)
        bindings += service_acls(
            service, principal=f"User:{username}", namespace=operator.namespace
        )
    username, _password = config.kafka_credentials.of(STOREFRONT)
    bindings += storefront_acls(principal=f"User:{username}", namespace=operator.namespace)
    acls_grant(operator, bindings)
    log(f"granted {len(bindings)} ACLs to the services' users")


def kafka_admin_files(config: StackConfig) -> Path:
    """admin.properties (and ca.crt) for Kafka's own CLI tools, as the operator."""
    return admin_properties(config.kafka_cluster, config.kafka_credentials, config.kafka_run_dir)
