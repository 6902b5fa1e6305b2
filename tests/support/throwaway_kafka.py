"""A Kafka broker of a test's own, on its own port and data folder, to stop and start at will.

Never the shared broker: tests that take Kafka away use one of these. Launched with the
same jars and settings as `manage_scripts/up` (`manage_scripts.stack.programs`).
"""

import shutil
import signal
import socket
import subprocess
from pathlib import Path

from manage_scripts.stack.programs import kafka_program
from manage_scripts.stack.supervision import die_with_parent


def free_port_pair() -> int:
    """A port whose successor is free too (the broker's controller listens there)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free pair of ports")


class ThrowawayKafka:
    def __init__(self, base: Path, port: int) -> None:
        self.base = base
        self.port = port
        self.bootstrap = f"127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        program = kafka_program(self.base, self.bootstrap)
        self._process = subprocess.Popen(
            program.command,
            cwd=program.directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=die_with_parent,  # no broker outlives the test session
        )

    def stop(self, timeout: float = 30.0) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.send_signal(signal.SIGTERM)
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
