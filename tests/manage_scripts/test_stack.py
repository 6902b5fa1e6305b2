"""A stack dies with whoever started it: a launcher, test session or bench killed outright
(SIGKILL, out of memory) leaves no supervisord and no service process behind."""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from manage_scripts.stack.config import ROOT, StackConfig
from manage_scripts.stack.launch import StackProcess
from manage_scripts.stack.probes import wait_until
from manage_scripts.stack.programs import Program
from manage_scripts.stack.provision import databases_drop
from manage_scripts.stack.supervision import Supervisor, supervisorctl, supervisord_conf

PG = os.environ.get("E2E_POSTGRES_URL", "postgres://saga:saga@127.0.0.1:5432")
REDIS = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379")
# Beside the e2e suite's ports, and its Redis databases (the two never run at once).
ORDER_PORT = int(os.environ.get("E2E_ORDER_PORT", "18001")) + 50
REDIS_DBS = os.environ.get("E2E_REDIS_DBS", "2,3").split(",")
SLEEPER = "import time; time.sleep(600)"


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, str]]:
    urls = {
        "ORDER_DATABASE_URL": f"{PG}/launcher_{ORDER_PORT}_order_service",
        "INVENTORY_DATABASE_URL": f"{PG}/launcher_{ORDER_PORT}_inventory_service",
    }
    databases_drop(urls.values())
    yield urls
    databases_drop(urls.values())


def _stack_env(databases: dict[str, str], name: str) -> dict[str, str]:
    return {
        **databases,
        "ORDER_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[0]}",
        "INVENTORY_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[1]}",
        "ORDER_PORT": str(ORDER_PORT),
        "INVENTORY_PORT": str(ORDER_PORT + 1),
        "GATEWAY_PORT": str(ORDER_PORT - 1),
        "STOREFRONT_PORT": str(ORDER_PORT + 2),
        "STOREFRONT_REDIS_URL": f"{REDIS}/{os.environ.get('E2E_STOREFRONT_REDIS_DB', '7')}",
        "WEB_INSTANCES": "1",
        "WEB_WORKERS": "1",
        "KAFKA_NAMESPACE": f"launcher-{uuid.uuid4().hex[:8]}.",
        "SAGA_RUN_DIR": str(ROOT / ".run" / f"launcher-{ORDER_PORT}-{name}"),
    }


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name; None once it is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _running(pid: int) -> bool:
    fields = _proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")  # a zombie has stopped


def _descendants(pid: int) -> set[int]:
    children: defaultdict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))) is not None:
            children[int(fields[1])].append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children[todo.pop()]:
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def _survivors_after(pids: set[int], timeout: float) -> list[str]:
    """The command lines of `pids` still running after `timeout` seconds, which are killed."""
    deadline = time.monotonic() + timeout
    while (alive := {p for p in pids if _running(p)}) and time.monotonic() < deadline:
        time.sleep(0.5)
    survivors = [_cmdline(p) for p in alive]
    for pid in alive:  # leave nothing behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    return survivors


def test_a_killed_launcher_leaves_no_process_behind(databases):
    # given the whole stack running a command, as `manage_scripts/test` runs the tests
    launcher = StackProcess(
        _stack_env(databases, "killed"),
        args=("--no-demo", "--", sys.executable, "-c", SLEEPER),
    )
    launcher.start()
    assert launcher.process is not None
    try:
        pid = launcher.process.pid
        wait_until(
            "the command",
            lambda: any(SLEEPER in _cmdline(p) for p in _descendants(pid)),
            timeout=30,
        )
        processes = _descendants(pid)
        commands = "\n".join(_cmdline(p) for p in processes)
        for program in ("supervisord", "gunicorn", "celery", "consume_events", "relay_outbox"):
            assert program in commands, commands

        # when the launcher is killed without a chance to clean up
        launcher.process.send_signal(signal.SIGKILL)
        launcher.process.wait()

        # then supervisord, every program it ran and the command stop too
        assert _survivors_after(processes, timeout=90) == []
    finally:
        launcher.stop()


def test_a_killed_owner_leaves_no_supervisor_behind(databases):
    # given a process owning a stack, as the bench and the test sessions do
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\n"
            "from manage_scripts.stack.launch import StackProcess\n"
            "stack = StackProcess(dict(os.environ), args=('--infra-only',))\n"
            "stack.start()\n"
            "print(stack.process.pid, flush=True)\n"
            "time.sleep(600)\n",
        ],
        env={**os.environ, **_stack_env(databases, "owned")},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    processes: set[int] = set()
    try:
        assert owner.stdout is not None
        launcher_pid = int(owner.stdout.readline() or 0)
        assert launcher_pid, "the owner could not start its stack"
        processes = {launcher_pid, *_descendants(launcher_pid)}
        assert "supervisord" in "\n".join(_cmdline(p) for p in processes)

        # when the owner is killed without a chance to stop its stack
        owner.send_signal(signal.SIGKILL)
        owner.wait()

        # then its launcher and supervisord stop
        assert _survivors_after(processes, timeout=90) == []
    finally:
        owner.kill()
        owner.wait()
        _survivors_after(processes, timeout=0)


def test_the_gateway_stops_first_then_the_services_then_their_servers(tmp_path):
    # given one program in each group, each noting when SIGTERM reaches it
    stopped = tmp_path / "stopped"
    config = StackConfig.from_env({"SAGA_RUN_DIR": str(tmp_path / "run")})
    config.run_dir.mkdir()

    def noting(name: str, group: str) -> Program:
        script = f'trap "echo {name} >> {stopped}; exit 0" TERM; while :; do sleep 0.1; done'
        return Program(name, ["bash", "-c", script], group=group, stopwaitsecs=5)

    programs = [noting("postgres", "infra"), noting("relay", "apps"), noting("haproxy", "gateway")]
    supervisor = Supervisor(config, supervisord_conf(config, programs))
    supervisor.start()
    try:
        supervisor.start_group("apps")
        supervisor.start_group("gateway")
        wait_until(
            "every program running",
            lambda: supervisorctl(supervisor.conf, "status").stdout.count("RUNNING") == 3,
            timeout=30,
        )
    finally:
        # when the supervisor is told to stop
        supervisor.stop()

    # then the servers stop last, once nothing uses them
    assert stopped.read_text().split() == ["haproxy", "relay", "postgres"]
