"""Is a server or process there yet, and waiting until it is."""

import os
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping

from manage_scripts.stack import StackError


def wait_until(what: str, check: Callable[[], bool], *, timeout: float) -> None:
    """Poll `check` until it holds; raise StackError naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise StackError(f"{what} not ready after {timeout:.0f}s")
        time.sleep(0.2)


def host_port(url: str, default_port: int) -> tuple[str, int]:
    parsed = urllib.parse.urlsplit(url if "//" in url else f"//{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


def tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


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


def kafka_ready(client_env: Mapping[str, str]) -> bool:
    """Does a broker answer a client with these KAFKA_* variables (address, security)?"""
    from shared_events.kafka.admin import broker_ready
    from shared_events.kafka.config import KafkaSettings

    return broker_ready(KafkaSettings.from_env(client_env))


def http_ready(port: int, path: str = "/admin/login/") -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
