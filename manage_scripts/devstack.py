"""Start the whole saga natively: PostgreSQL, Redis and Kafka when none is reachable,
then both services' web, Celery worker, beat and consumer processes, all under one
supervisord that restarts whatever dies and stops everything on Ctrl-C or SIGTERM.

Used by `manage_scripts/up` (everything) and `manage_scripts/test` (infrastructure,
then the test suite). Every address comes from the same environment variables the
services read, so a stack pointed at existing servers starts only what is missing.
"""

import argparse
import dataclasses
import glob
import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
VENV_BIN = Path(PYTHON).parent
KAFKA_DIR = ROOT / "manage_scripts" / "kafka"
SERVICES = ("order", "inventory")


class StackError(Exception):
    """A reason to stop, printed as one line."""


@dataclasses.dataclass(frozen=True)
class StackConfig:
    run_dir: Path
    data_dir: Path
    database_urls: dict[str, str]
    broker_urls: dict[str, str]
    kafka_bootstrap: str
    ports: dict[str, int]
    web_workers: int
    consumers: int

    @classmethod
    def from_env(cls) -> "StackConfig":
        env = os.environ
        return cls(
            run_dir=Path(env.get("SAGA_RUN_DIR", ROOT / ".run" / "dev")).resolve(),
            data_dir=Path(env.get("SAGA_DATA_DIR", ROOT / ".run" / "data")).resolve(),
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
            kafka_bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
            ports={
                "order": int(env.get("ORDER_PORT", "8001")),
                "inventory": int(env.get("INVENTORY_PORT", "8002")),
            },
            # Sync workers spend much of a request waiting on PostgreSQL: two per core keep
            # the cores busy (one per core left a flash sale queueing at the web tier).
            web_workers=int(env.get("WEB_WORKERS") or 2 * (os.cpu_count() or 1)),
            consumers=int(env.get("CONSUMER_PROCESSES", "1")),
        )

    def service_env(self, service: str) -> dict[str, str]:
        return {
            "ORDER_DATABASE_URL": self.database_urls["order"],
            "INVENTORY_DATABASE_URL": self.database_urls["inventory"],
            "ORDER_CELERY_BROKER_URL": self.broker_urls["order"],
            "INVENTORY_CELERY_BROKER_URL": self.broker_urls["inventory"],
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "DJANGO_SETTINGS_MODULE": os.environ.get(
                f"{service.upper()}_DJANGO_SETTINGS_MODULE", f"{service}_service.settings.dev"
            ),
            "PYTHONUNBUFFERED": "1",
            # Every process of a service adds its counters here; its /metrics sums them.
            "PROMETHEUS_MULTIPROC_DIR": str(self.metrics_dir(service)),
        }

    def metrics_dir(self, service: str) -> Path:
        return self.run_dir / "metrics" / service


# --- small probes -------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[stack] {message}", flush=True)


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url if "//" in url else f"//{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(what: str, check, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise StackError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.2)


def postgres_ready(url: str) -> bool:
    import psycopg2

    parsed = urllib.parse.urlsplit(url)
    try:
        psycopg2.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname="postgres",
            connect_timeout=2,
        ).close()
        return True
    except psycopg2.OperationalError:
        return False


def redis_ready(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def kafka_ready(bootstrap: str) -> bool:
    from shared_events.kafka.admin import broker_ready
    from shared_events.kafka.config import KafkaSettings

    return broker_ready(KafkaSettings.from_env(bootstrap_servers=bootstrap))


def http_ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


# --- installation of what is missing --------------------------------------------------


def apt_install(packages: list[str]) -> None:
    """Install Debian packages as root, or say exactly how to."""
    command = ["apt-get", "install", "-y", "--no-install-recommends", *packages]
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise StackError(f"missing {', '.join(packages)}: install with: sudo {shlex.join(command)}")
    log(f"installing {' '.join(packages)} (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)


def postgres_bindir() -> Path | None:
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    return Path(candidates[-1]).parent if candidates else None


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


# --- supervisord programs -------------------------------------------------------------


@dataclasses.dataclass
class Program:
    name: str
    command: list[str]
    group: str
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
        programs.append(_postgres_program(data / "postgres", port, url))
    for host, port in {host_port(u, 6379) for u in config.broker_urls.values()}:
        if tcp_open(host, port):
            log(f"using Redis at {host}:{port}")
            continue
        if not shutil.which("redis-server"):
            apt_install(["redis-server"])
        (data / "redis").mkdir(parents=True, exist_ok=True)
        redis = f"redis-server --bind 127.0.0.1 --port {port} --appendonly no --dir"
        command = [*redis.split(), str(data / "redis"), "--save", ""]
        programs.append(Program("redis", command, group="infra"))
    if kafka_ready(config.kafka_bootstrap):
        log(f"using Kafka at {config.kafka_bootstrap}")
    else:
        programs.append(_kafka_program(data / "kafka", config.kafka_bootstrap))
    return programs


def _postgres_program(base: Path, port: int, url: str) -> Program:
    bindir = postgres_bindir()
    if bindir is None:
        apt_install(["postgresql"])
        bindir = postgres_bindir()
        assert bindir is not None
    parsed = urllib.parse.urlsplit(url)
    user = "postgres" if os.geteuid() == 0 else None  # PostgreSQL refuses to run as root
    if user and not _reachable_by(user, base.parent):
        # A checkout under a private folder (mode 700) is closed to the postgres user.
        digest = hashlib.sha256(str(base).encode()).hexdigest()[:12]
        base = Path("/var/lib/postgresql") / f"saga-{digest}"
        log(f"{user} cannot reach the checkout; keeping the PostgreSQL cluster in {base}")
    data = base / "data"
    if not (data / "PG_VERSION").exists():
        log(f"creating a PostgreSQL cluster in {data}")
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
                str(data),
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
    return Program(
        "postgres",
        [
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(base),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            "-c",
            # PostgreSQL's default (128MB) cannot hold the outbox's indexes once it keeps a
            # million published rows: the relay then slowed by a fifth (see the README's
            # Performance section).
            f"shared_buffers={_shared_buffers_mb()}MB",
            "-c",
            "fsync=on",
            "-c",
            "synchronous_commit=on",
        ],
        group="infra",
        user=user,
        directory=base,
        stopsignal="INT",
        stopwaitsecs=30,
    )


def _shared_buffers_mb() -> int:
    """A quarter of the memory, as PostgreSQL's documentation suggests, at most 1 GB."""
    memory_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return max(128, min(memory_mb // 4, 1024))


def _reachable_by(user: str, folder: Path) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    probe = ["runuser", "-u", user, "--", "test", "-x", str(folder)]
    return subprocess.run(probe, check=False).returncode == 0


def _run_as(user: str | None, command: list[str]) -> None:
    prefix = ["runuser", "-u", user, "--"] if user else []
    # From "/": the other user may not be allowed into the current folder.
    subprocess.run(prefix + command, check=True, stdout=subprocess.DEVNULL, cwd="/")


def _kafka_program(base: Path, bootstrap: str) -> Program:
    if not shutil.which("java"):
        apt_install(["openjdk-17-jre-headless"])
    libs = kafka_libs()
    _host, port = host_port(bootstrap.split(",")[0], 9092)
    data, logs = base / "data", base / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    properties = base / "server.properties"
    properties.write_text(
        (KAFKA_DIR / "server.properties")
        .read_text()
        .replace("@PORT@", str(port))
        .replace("@CONTROLLER_PORT@", str(port + 1))
        .replace("@DATA_DIR@", str(data))
    )
    java = [
        "java",
        "-Xms256m",
        "-Xmx1g",
        "-XX:+UseG1GC",
        "-cp",
        f"{libs}/*",
        f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.yaml'}",
        f"-Dkafka.logs.dir={logs}",
    ]
    if not (data / "meta.properties").exists():
        log(f"formatting Kafka storage in {data}")
        cluster_id = _kafka_cluster_id()
        subprocess.run(
            [
                *java,
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id}",
                "-c",
                str(properties),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    return Program("kafka", [*java, "kafka.Kafka", str(properties)], group="infra", stopwaitsecs=30)


def _kafka_cluster_id() -> str:
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


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
    return programs
# fmt: on


def metrics_dirs_reset(config: StackConfig) -> None:
    """Start each service's multiprocess metrics afresh (files of old processes would count)."""
    for service in SERVICES:
        shutil.rmtree(config.metrics_dir(service), ignore_errors=True)
        config.metrics_dir(service).mkdir(parents=True)


def supervisord_conf(config: StackConfig, infra: list[Program], apps: list[Program]) -> Path:
    run = config.run_dir
    logs = run / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    sections = [
        f"[supervisord]\nnodaemon=true\nlogfile={logs / 'supervisord.log'}\n"
        f"pidfile={run / 'supervisord.pid'}\nchildlogdir={logs}\nloglevel=warn\n",
        f"[unix_http_server]\nfile={run / 'supervisor.sock'}\n",
        f"[supervisorctl]\nserverurl=unix://{run / 'supervisor.sock'}\n",
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
    ]
    for program in infra + apps:
        env = ",".join(f'{k}="{v}"' for k, v in program.env.items())
        lines = [
            f"[program:{program.name}]",
            f"command={shlex.join(program.command)}",
            f"directory={program.directory}",
            f"autostart={'true' if program.group == 'infra' else 'false'}",
            "autorestart=true",
            "startsecs=2",
            "startretries=100",
            f"stopsignal={program.stopsignal}",
            f"stopwaitsecs={program.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={logs / (program.name + '.log')}",
            "stdout_logfile_maxbytes=20MB",
            "stdout_logfile_backups=2",
        ]
        if env:
            lines.append(f"environment={env}")
        if program.user:
            lines.append(f"user={program.user}")
        sections.append("\n".join(lines) + "\n")
    for group in ("infra", "apps"):
        names = [p.name for p in infra + apps if p.group == group]
        if names:
            sections.append(f"[group:{group}]\nprograms={','.join(names)}\n")
    path = run / "supervisord.conf"
    path.write_text("\n".join(sections))
    return path


# --- setup steps ---------------------------------------------------------------------


def databases_ensure(config: StackConfig) -> None:
    import psycopg2
    from psycopg2 import sql

    for url in config.database_urls.values():
        parsed = urllib.parse.urlsplit(url)
        name = parsed.path.lstrip("/")
        conn = psycopg2.connect(
            host=parsed.hostname,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname="postgres",
        )
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                log(f"created database {name}")
        conn.close()


def manage(config: StackConfig, service: str, *args: str) -> None:
    result = subprocess.run(
        [PYTHON, str(ROOT / f"{service}_service" / "manage.py"), *args],
        env={**os.environ, **config.service_env(service)},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        raise StackError(f"{service}_service/manage.py {' '.join(args)} failed")
    for line in result.stdout.splitlines():
        if line.strip() and not line.startswith(("  Apply", "Operations", "Running migrations")):
            log(f"{service}: {line.strip()}")


def setup_services(config: StackConfig, *, demo: bool) -> None:
    databases_ensure(config)
    for service in SERVICES:
        manage(config, service, "migrate", "--no-input")
    manage(config, "order", "create_topics")
    if demo:
        manage(config, "inventory", "seed_demo_products")
        for service in SERVICES:
            manage(config, service, "ensure_demo_user")


# --- the supervisor ------------------------------------------------------------------


class Supervisor:
    def __init__(self, config: StackConfig, conf: Path) -> None:
        self.config = config
        self.conf = conf
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        pidfile = self.config.run_dir / "supervisord.pid"
        if pidfile.exists():
            pid = int(pidfile.read_text().strip() or 0)
            if pid and process_alive(pid):
                raise StackError(
                    f"a stack is already running from {self.config.run_dir} "
                    f"(supervisord pid {pid}); stop it first"
                )
        self.process = subprocess.Popen(
            [str(VENV_BIN / "supervisord"), "-c", str(self.conf)],
            start_new_session=True,  # our own signal handler decides when it stops
        )
        sock = self.config.run_dir / "supervisor.sock"
        wait_until(
            "supervisord",
            lambda: sock.exists() and self._ctl("status").returncode in (0, 3),
            timeout=30,
        )

    def start_group(self, group: str) -> None:
        result = self._ctl("start", f"{group}:*")
        if result.returncode != 0:
            raise StackError(f"could not start {group}: {result.stdout.strip()}")

    def _ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(VENV_BIN / "supervisorctl"), "-c", str(self.conf), *args],
            capture_output=True,
            text=True,
        )

    def wait(self) -> int:
        assert self.process is not None
        return self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        log("stopping every process")
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def summary(config: StackConfig, infra: list[Program]) -> str:
    started = ", ".join(p.name for p in infra) or "none (all were already running)"
    o, i = config.ports["order"], config.ports["inventory"]
    user = os.environ.get("DEMO_USERNAME", "demo")
    password = os.environ.get("DEMO_PASSWORD", "demo")
    return f"""
  Order Service      http://127.0.0.1:{o}/api/orders/     admin: http://127.0.0.1:{o}/admin/
  Inventory Service  http://127.0.0.1:{i}/api/products/   admin: http://127.0.0.1:{i}/admin/
  Login              {user} / {password}   (set DEMO_USERNAME / DEMO_PASSWORD to change)
  Operations         /health/ready  /metrics  /api/docs/ (both services)
  Kafka status       python order_service/manage.py kafka_status
  Kafka              {config.kafka_bootstrap}
  Started locally    {started}
  Logs               {config.run_dir / "logs"}/<process>.log
  Processes          {", ".join(p.name for p in app_programs(config))}
  Stop               Ctrl-C (or SIGTERM to this process)
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    parser.add_argument(
        "--infra-only",
        action="store_true",
        help="start only PostgreSQL, Redis and Kafka (as needed)",
    )
    parser.add_argument("--no-demo", action="store_true", help="skip demo products and user")
    parser.add_argument(
        "then",
        nargs=argparse.REMAINDER,
        help="after `--`: run this command once ready, then stop everything",
    )
    args = parser.parse_args(argv)
    then = args.then[1:] if args.then[:1] == ["--"] else args.then

    sys.path.insert(0, str(ROOT))
    config = StackConfig.from_env()
    config.run_dir.mkdir(parents=True, exist_ok=True)
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
        apps = [] if args.infra_only else app_programs(config)
        supervisor = Supervisor(config, supervisord_conf(config, infra, apps))
        supervisor.start()
        pg_url = next(iter(config.database_urls.values()))
        wait_until("PostgreSQL", lambda: postgres_ready(pg_url), timeout=60)
        wait_until(
            "Redis", lambda: all(redis_ready(u) for u in config.broker_urls.values()), timeout=30
        )
        wait_until("Kafka", lambda: kafka_ready(config.kafka_bootstrap), timeout=90)
        metrics_dirs_reset(config)
        setup_services(config, demo=not args.no_demo and not args.infra_only)
        if apps:
            supervisor.start_group("apps")
            for service in SERVICES:
                wait_until(
                    f"{service} web", lambda s=service: http_ready(config.ports[s]), timeout=60
                )
            print(summary(config, infra), flush=True)
        else:
            log("infrastructure ready")
        if then:
            return subprocess.run(then, cwd=ROOT).returncode
        return supervisor.wait()
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(
            f"error: {shlex.join(map(str, exc.cmd))} exited with {exc.returncode}", file=sys.stderr
        )
        return 1
    except KeyboardInterrupt:
        return 0 if stopping else 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if supervisor is not None:
            supervisor.stop()


if __name__ == "__main__":
    sys.exit(main())
