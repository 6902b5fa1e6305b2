"""The API gateway: Debian's HAProxy with the configuration compose's haproxy image uses too.

compose/haproxy/haproxy.cfg is one file for both; HAProxy expands the "${VAR}"s it names
from its environment, which `gateway_env` computes from the stack's configuration.
"""

import csv
import io
import shutil
import urllib.request

from manage_scripts.stack import StackError
from manage_scripts.stack.config import ROOT, SERVICES, StackConfig
from manage_scripts.stack.programs import Program
from manage_scripts.stack.provision import apt_install

GATEWAY_CONFIG = ROOT / "compose" / "haproxy" / "haproxy.cfg"
# The backends the gateway balances, each with up to MAX_INSTANCES server lines.
BACKENDS = ("order", "inventory", "storefront")
MAX_INSTANCES = 4


def gateway_env(config: StackConfig) -> dict[str, str]:
    """The variables compose/haproxy/haproxy.cfg reads, for the native stack's instances."""
    if not 1 <= config.web_instances <= MAX_INSTANCES:
        raise StackError(f"WEB_INSTANCES must be 1..{MAX_INSTANCES}, not {config.web_instances}")
    if config.gateway_rate_limit < 1:
        raise StackError(f"GATEWAY_RATE_LIMIT must be at least 1, not {config.gateway_rate_limit}")
    env = {
        "GATEWAY_ADDRESS": "127.0.0.1",
        "GATEWAY_PORT": str(config.ports["gateway"]),
        "GATEWAY_INTERNAL_ADDRESS": "127.0.0.1",
        "GATEWAY_INTERNAL_PORT": str(config.ports["gateway_internal"]),
        "GATEWAY_RATE_LIMIT": str(config.gateway_rate_limit),
    }
    for backend in BACKENDS:
        for n, port in enumerate(config.instance_ports(backend), start=1):
            env[f"{backend.upper()}_WEB_{n}"] = f"127.0.0.1:{port}"
    return env


def gateway_program(config: StackConfig) -> Program:
    if not shutil.which("haproxy"):
        apt_install(["haproxy"])
    return Program(
        "gateway",
        # -db: stay in the foreground, under supervisord; logs go to stdout.
        [shutil.which("haproxy") or "haproxy", "-db", "-f", str(GATEWAY_CONFIG)],
        # Started once the instances answer: its health checks would only queue up behind
        # workers still importing the app.
        group="gateway",
        env=gateway_env(config),
        stopsignal="USR1",  # finish the requests in flight, then exit
    )


def gateway_server_rows(stats_csv: str) -> list[dict[str, str]]:
    """The instances' rows of HAProxy's CSV statistics (svname, status, scur, ...)."""
    rows = csv.DictReader(io.StringIO(stats_csv.removeprefix("# ")))
    return [
        row
        for row in rows
        if row["pxname"] in BACKENDS and row["svname"] not in ("FRONTEND", "BACKEND")
    ]


def gateway_server_states(stats_csv: str) -> dict[str, str]:
    """Each instance's state ("order-1": "UP", ...) from HAProxy's CSV statistics."""
    return {row["svname"]: row["status"] for row in gateway_server_rows(stats_csv)}


def gateway_states(config: StackConfig) -> dict[str, str]:
    """The instances' states as the running gateway sees them ({} if it does not answer)."""
    url = f"http://127.0.0.1:{config.ports['gateway_internal']}/gateway/stats;csv"
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return gateway_server_states(response.read().decode())
    except OSError:
        return {}


def gateway_ready(config: StackConfig) -> bool:
    """Every web instance of both services is in rotation."""
    states = gateway_states(config)
    expected = [f"{s}-{n}" for s in SERVICES for n in range(1, config.web_instances + 1)]
    return all(states.get(name) == "UP" for name in expected)
