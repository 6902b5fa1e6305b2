"""What the numbers were measured on: machine, versions, and the code under test."""

import hashlib
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def machine_info() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if "model name" in line),
        platform.processor() or "unknown",
    )
    meminfo = {
        line.split(":")[0]: line.split(":")[1].strip()
        for line in Path("/proc/meminfo").read_text().splitlines()
    }
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "memory_total_mb": int(meminfo["MemTotal"].split()[0]) // 1024,
        "memory_available_mb_at_start": int(meminfo["MemAvailable"].split()[0]) // 1024,
        "kernel": platform.release(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }


def loadavg() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def package_versions() -> dict[str, str]:
    import confluent_kafka

    names = [
        "Django",
        "djangorestframework",
        "confluent-kafka",
        "psycopg2-binary",
        "celery",
        "redis",
        "gunicorn",
        "pydantic",
        "supervisor",
    ]
    versions = {"python": sys.version.split()[0]}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["librdkafka"] = confluent_kafka.libversion()[0]
    return versions


def server_versions(pg_dsn: str, redis_url: str, kafka_bootstrap: str) -> dict[str, str]:
    import psycopg2
    import redis

    versions = {}
    try:
        with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cursor:
            cursor.execute("SHOW server_version")
            versions["postgresql-server"] = cursor.fetchone()[0]
            for name in ("shared_buffers", "synchronous_commit", "fsync", "max_connections"):
                cursor.execute(f"SHOW {name}")
                versions[f"postgresql.{name}"] = cursor.fetchone()[0]
        conn.close()
    except psycopg2.Error as exc:
        versions["postgresql-server"] = f"unknown ({exc})"
    try:
        versions["redis-server"] = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    except redis.RedisError as exc:
        versions["redis-server"] = f"unknown ({exc})"
    versions["kafka-broker"] = _kafka_version(kafka_bootstrap)
    return versions


def _kafka_version(bootstrap: str) -> str:
    # The project's pinned broker version; the broker answering may be another one.
    pom = (ROOT / "manage_scripts" / "kafka" / "pom.xml").read_text()
    pinned = pom.split("<kafka.version>")[1].split("</kafka.version>")[0]
    return f"{pinned} (pinned in manage_scripts/kafka/pom.xml; broker at {bootstrap})"


def code_under_test() -> dict[str, Any]:
    """The commit plus the uncommitted changes that were measured (others edit concurrently)."""

    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return result.stdout.strip()

    diff = git("diff", "HEAD", "--", ".", ":(exclude)bench-reports", ":(exclude)manage_scripts")
    return {
        "commit": git("rev-parse", "HEAD"),
        "commit_subject": git("log", "-1", "--format=%s"),
        "uncommitted_changes": [
            line for line in git("status", "--short").splitlines() if line.strip()
        ],
        "diff_sha256_outside_bench": hashlib.sha256(diff.encode()).hexdigest()[:16],
    }
