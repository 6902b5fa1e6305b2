"""supervisord: its configuration, starting and stopping it, and `supervisorctl`.

Every process the stack starts dies with the process that started it: a launcher, test or
bench killed outright (SIGKILL, out of memory) must not leave servers holding ports behind.
"""

import ctypes
import os
import shlex
import signal
import subprocess
from pathlib import Path

from manage_scripts.stack import StackError, log
from manage_scripts.stack.config import VENV_BIN, StackConfig
from manage_scripts.stack.probes import process_alive, wait_until
from manage_scripts.stack.programs import Program

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In a child, before exec: be sent SIGTERM when the parent dies.

    The kernel sends it when the thread that started the child exits, so start children
    that must outlive a thread from the main thread. SIGTERM, not SIGKILL: a launcher or
    supervisord then still stops its own children.
    """
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")


def supervisorctl(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(VENV_BIN / "supervisorctl"), "-c", str(conf), *args],
        capture_output=True,
        text=True,
        check=False,
    )


def supervisord_pid(run_dir: Path) -> int | None:
    """The pid of a supervisord still running from `run_dir`, if any."""
    pidfile = run_dir / "supervisord.pid"
    if not pidfile.exists():
        return None
    pid = int(pidfile.read_text().strip() or 0)
    return pid if pid and process_alive(pid) else None


def supervisord_absent_check(run_dir: Path) -> None:
    """Refuse to start a second stack from the same run directory."""
    pid = supervisord_pid(run_dir)
    if pid is not None:
        raise StackError(
            f"a stack is already running from {run_dir} (supervisord pid {pid}); stop it first"
        )


def supervisord_conf(config: StackConfig, programs: list[Program]) -> Path:
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
    for program in programs:
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
    # supervisord stops groups one at a time, highest priority first: the gateway stops
    # taking requests, then the services finish and commit, and only then do their
    # servers stop under them.
    for priority, group in ((100, "infra"), (500, "apps"), (900, "gateway")):
        names = [p.name for p in programs if p.group == group]
        if names:
            sections.append(f"[group:{group}]\nprograms={','.join(names)}\npriority={priority}\n")
    path = config.supervisord_conf
    path.write_text("\n".join(sections))
    return path


class Supervisor:
    """One supervisord, a child of this process, running the programs of `conf`."""

    def __init__(self, config: StackConfig, conf: Path) -> None:
        self.config = config
        self.conf = conf
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        supervisord_absent_check(self.config.run_dir)
        self.process = subprocess.Popen(
            [str(VENV_BIN / "supervisord"), "-c", str(self.conf)],
            start_new_session=True,  # our own signal handler decides when it stops
            preexec_fn=die_with_parent,  # the main thread started it: see die_with_parent
        )
        sock = self.config.run_dir / "supervisor.sock"
        wait_until(
            "supervisord",
            lambda: sock.exists() and supervisorctl(self.conf, "status").returncode in (0, 3),
            timeout=30,
        )

    def start_group(self, group: str) -> None:
        result = supervisorctl(self.conf, "start", f"{group}:*")
        if result.returncode != 0:
            raise StackError(f"could not start {group}: {result.stdout.strip()}")

    def start_programs(self, programs: list[Program]) -> None:
        names = [f"{program.group}:{program.name}" for program in programs]
        result = supervisorctl(self.conf, "start", *names)
        if result.returncode != 0:
            raise StackError(f"could not start {', '.join(names)}: {result.stdout.strip()}")

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
