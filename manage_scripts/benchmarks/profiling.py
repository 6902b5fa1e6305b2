"""Sampling profiles with py-spy, summarised as the top frames for the report.

py-spy comes with requirements/local.txt; without it (or without the right to attach to a
process) the figures still run and the report says that no profile was taken.
"""

import collections
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from manage_scripts.benchmarks.cpu import program_label

PY_SPY = Path(sys.executable).parent / "py-spy"

# Frames that only say "the program is running", never where the time goes.
_WRAPPERS = re.compile(
    r"^(<module>|main|run|_run_module_as_main|_run_code|execute_from_command_line|"
    r"run_from_argv|execute|handle|__call__|inner|_bootstrap|_bootstrap_inner|wrapper)\b"
)


def py_spy_path() -> Path | None:
    if PY_SPY.exists():
        return PY_SPY
    found = shutil.which("py-spy")
    return Path(found) if found else None


class Profiler:
    """`py-spy record` attached to a running process (and its children) until stopped."""

    def __init__(
        self,
        output: Path,
        *,
        pid: int,
        idle: bool = False,
        subprocesses: bool = False,
        rate: int = 100,
        duration: float | None = None,
    ) -> None:
        self.output = output
        self.pid = pid
        self.idle = idle
        self.subprocesses = subprocesses
        self.rate = rate
        self.duration = duration
        self.process: subprocess.Popen[str] | None = None
        self.error = ""

    def start(self) -> bool:
        binary = py_spy_path()
        if binary is None:
            self.error = "py-spy not installed (.venv/bin/pip install py-spy)"
            return False
        command = [
            str(binary),
            "record",
            "--pid",
            str(self.pid),
            "--rate",
            str(self.rate),
            "--format",
            "raw",
            "--output",
            str(self.output),
            "--nonblocking",
        ]
        if self.idle:
            command.append("--idle")
        if self.subprocesses:
            command.append("--subprocesses")
        if self.duration:
            command += ["--duration", str(max(1, int(self.duration)))]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        return True

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
        try:
            _, stderr = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, stderr = self.process.communicate()
        if not self.output.exists():
            self.error = f"py-spy wrote no profile: {(stderr or '').strip()[-300:]}"


def _label(process_frame: str) -> str:
    """A short program name for py-spy's `process PID:"cmdline"` frame."""
    return program_label(process_frame.partition(":")[2].strip('"'))


def _short(frame: str) -> str:
    """`func (path/to/file.py:12)` with the path cut to its last three parts."""
    match = re.match(r"^(.*) \((.*):(\d+)\)$", frame)
    if not match:
        return frame
    func, path, line = match.groups()
    parts = path.replace("\\", "/").split("/")
    for anchor in ("site-packages", "work", "main"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + 1 :]
    return f"{func} ({'/'.join(parts[-3:])}:{line})"


_PROJECT = re.compile(r"\((shared_events|order_service|inventory_service)/")


def _source(frame: str) -> str:
    """The source line a `func (path:line)` frame points at, as the file reads now."""
    match = re.match(r"^.* \((.*):(\d+)\)$", frame)
    if not match:
        return ""
    path = Path(__file__).resolve().parents[2] / match.group(1)
    try:
        return path.read_text().splitlines()[int(match.group(2)) - 1].strip()[:160]
    except (OSError, IndexError):
        return ""


def _function(frame: str) -> str:
    return re.sub(r":\d+\)$", ")", frame)


def summarize(
    path: Path,
    *,
    must_contain: str | None = None,
    top: int = 12,
) -> dict[str, Any]:
    """Top self and inclusive frames of a raw py-spy profile, overall and per program."""
    if not path.exists():
        return {"error": f"no profile at {path}"}
    total = 0
    self_counts: collections.Counter[str] = collections.Counter()
    incl_counts: collections.Counter[str] = collections.Counter()
    by_program: collections.Counter[str] = collections.Counter()
    program_self: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    # The deepest frame of the project's own code: which line of ours the time is under.
    project: collections.Counter[str] = collections.Counter()
    program_project: dict[str, collections.Counter[str]] = collections.defaultdict(
        collections.Counter
    )
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        if must_contain and not any(must_contain in f for f in frames):
            continue
        processes = [f for f in frames if f.startswith("process ")]
        program = _label(processes[-1]) if processes else "main"
        code = [_short(f) for f in frames if not f.startswith(("process ", "thread "))]
        if not code:
            continue
        total += count
        by_program[program] += count
        self_counts[code[-1]] += count
        program_self[program][code[-1]] += count
        ours = [f for f in code if _PROJECT.search(f)]
        where = ours[-1] if ours else f"(outside the project) {code[-1]}"
        project[where] += count
        program_project[program][where] += count
        for function in {_function(f) for f in code}:
            if not _WRAPPERS.match(function) and "benchmarks/" not in function:
                incl_counts[function] += count

    def share(counter: collections.Counter[str], n: int) -> list[dict[str, Any]]:
        return [
            {"frame": frame, "samples": c, "pct": round(100 * c / total, 1)}
            for frame, c in counter.most_common(n)
        ]

    return {
        "samples": total,
        "filter": must_contain,
        "programs": share(by_program, 20),
        "top_self": share(self_counts, top),
        "top_inclusive": share(incl_counts, top),
        "top_project_lines": [
            {**row, "source": _source(row["frame"])} for row in share(project, top)
        ],
        "per_program_top_self": {
            program: [
                {"frame": f, "pct_of_program": round(100 * c / by_program[program], 1)}
                for f, c in counter.most_common(6)
            ]
            for program, counter in sorted(program_self.items(), key=lambda kv: -by_program[kv[0]])
            if by_program[program] >= 0.02 * max(total, 1)
        },
        "per_program_top_project_lines": {
            program: [
                {"frame": f, "pct_of_program": round(100 * c / by_program[program], 1)}
                for f, c in counter.most_common(8)
            ]
            for program, counter in sorted(
                program_project.items(), key=lambda kv: -by_program[kv[0]]
            )
            if by_program[program] >= 0.02 * max(total, 1)
        },
        "raw_profile": str(path),
    }
