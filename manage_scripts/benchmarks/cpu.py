"""CPU seconds from /proc: per process, per process tree, and for the whole machine."""

import dataclasses
import os
import time
from collections.abc import Iterable
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
# Shared servers: their CPU is reported for context (other clients may use them too).
INFRA_COMMANDS = ("postgres", "java", "redis-server")


@dataclasses.dataclass(frozen=True)
class ProcStat:
    pid: int
    ppid: int
    comm: str
    cpu_seconds: float


def proc_stat(pid: int) -> ProcStat | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command may contain spaces and parentheses: split after the last ')'.
    head, _, rest = raw.rpartition(")")
    comm = head.partition("(")[2]
    fields = rest.split()
    # fields[0] is state (field 3); utime and stime are fields 14 and 15.
    utime, stime = int(fields[11]), int(fields[12])
    return ProcStat(pid=pid, ppid=int(fields[1]), comm=comm, cpu_seconds=(utime + stime) / TICKS)


def all_processes() -> list[ProcStat]:
    stats = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = proc_stat(int(entry))
            if stat is not None:
                stats.append(stat)
    return stats


def tree_pids(root: int, processes: Iterable[ProcStat] | None = None) -> set[int]:
    """`root` and every descendant of it."""
    processes = list(processes if processes is not None else all_processes())
    children: dict[int, list[int]] = {}
    for p in processes:
        children.setdefault(p.ppid, []).append(p.pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        todo.extend(children.get(pid, []))
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""


def program_label(command: str) -> str:
    """A short name for a stack process from its command line: order-web, inventory-consumer…"""
    service = (
        "order"
        if "order_service" in command
        else "inventory"
        if "inventory_service" in command
        else ""
    )
    if "supervisord" in command:
        return "supervisord"
    if "gunicorn" in command:
        kind = "web"
    elif "celery" in command and " beat" in command:
        kind = "beat"
    elif "celery" in command:
        kind = "worker"
    elif "manage.py" in command:
        parts = command.split()
        kind = parts[parts.index(next(p for p in parts if p.endswith("manage.py"))) + 1]
        kind = "consumer" if kind == "consume_events" else kind
    else:
        kind = (command.split() or ["?"])[0].rsplit("/", 1)[-1][:30]
    return f"{service}-{kind}" if service else kind


@dataclasses.dataclass
class CpuSnapshot:
    """CPU seconds at one moment: the tree under `root`, the shared servers, the machine."""

    tree: dict[int, float]
    infra: dict[int, float]
    self_seconds: float
    machine_busy: float
    machine_total: float
    at: float = 0.0
    labels: dict[int, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def take(cls, root: int | None) -> "CpuSnapshot":
        processes = all_processes()
        pids = tree_pids(root, processes) if root else set()
        own = proc_stat(os.getpid())
        busy, total = machine_cpu()
        return cls(
            labels={pid: program_label(cmdline(pid)) for pid in pids},
            tree={p.pid: p.cpu_seconds for p in processes if p.pid in pids},
            infra={p.pid: p.cpu_seconds for p in processes if p.comm in INFRA_COMMANDS},
            self_seconds=own.cpu_seconds if own else 0.0,
            machine_busy=busy,
            machine_total=total,
            at=time.monotonic(),
        )

    def since(self, before: "CpuSnapshot") -> dict[str, float]:
        """CPU seconds used between `before` and this snapshot (processes alive at the end)."""

        def delta(now: dict[int, float], then: dict[int, float]) -> float:
            return sum(v - then.get(pid, 0.0) for pid, v in now.items())

        total = self.machine_total - before.machine_total
        busy = self.machine_busy - before.machine_busy
        stack = delta(self.tree, before.tree)
        infra = delta(self.infra, before.infra)
        own = self.self_seconds - before.self_seconds
        per_program: dict[str, float] = {}
        for pid, seconds in self.tree.items():
            label = self.labels.get(pid) or before.labels.get(pid) or "?"
            per_program[label] = per_program.get(label, 0.0) + seconds - before.tree.get(pid, 0.0)
        return {
            "stack_cpu_s": round(stack, 3),
            "stack_cpu_s_by_program": {
                k: round(v, 3) for k, v in sorted(per_program.items(), key=lambda kv: -kv[1])
            },
            "infra_cpu_s": round(infra, 3),
            "load_generator_cpu_s": round(own, 3),
            "machine_busy_cpu_s": round(busy / TICKS, 3),
            # Everything else on the machine: other users' processes, exited processes.
            "other_cpu_s": round(busy / TICKS - stack - infra - own, 3),
            "machine_busy_pct": round(100 * busy / total if total else 0.0, 1),
            "wall_s": round(self.at - before.at, 2),
            "other_load_cores": round(
                (busy / TICKS - stack - infra - own) / (self.at - before.at), 2
            )
            if self.at > before.at
            else None,
        }


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return float(total - idle), float(total)


def pid_cpu_seconds(pids: Iterable[int]) -> float:
    total = 0.0
    for pid in pids:
        stat = proc_stat(pid)
        if stat is not None:
            total += stat.cpu_seconds
    return total


def wait_for_quiet(
    *, max_wait: float, threshold_cores: float = 0.35, window: float = 3.0
) -> dict[str, float]:
    """Wait (at most `max_wait` s) until everything but this run uses < `threshold_cores`.

    "This run" is the bench process and its descendants (workers, consumers, the stack);
    the shared servers' CPU counts as other load, whoever causes it.
    """
    started = time.monotonic()
    other = 0.0
    while True:
        own_pids = tree_pids(os.getpid())
        busy0, _ = machine_cpu()
        own0 = pid_cpu_seconds(own_pids)
        time.sleep(window)
        busy1, _ = machine_cpu()
        own1 = pid_cpu_seconds(own_pids)
        other = max(((busy1 - busy0) / TICKS - (own1 - own0)) / window, 0.0)
        waited = time.monotonic() - started
        if other < threshold_cores or waited >= max_wait:
            return {"waited_s": round(waited, 1), "other_load_cores": round(other, 2)}
