"""A stack with its own PostgreSQL, Redis and Kafka, so that faults can hit every server.

Nothing here is shared with a developer's stack or the other suites: the servers listen
on their own ports and keep their data in `.run/faults-data`, started afresh each session.

`FAULTS_MUTANT=lose-events` starts the stack with consumers that lose about one event in
forty (`mutants/sitecustomize.py`): the suite must then fail and name what was lost.
"""

import os
import shutil
import uuid
from pathlib import Path

import pytest

from tests.faults.load import port_open
from tests.support.stack import ROOT, Api, running_stack

MUTANTS = {"lose-events": Path(__file__).parent / "mutants"}
PG = "postgres://saga:saga@127.0.0.1:25432"
USER, PASSWORD = "faults", "faults-password"


@pytest.fixture(scope="session")
def stack():
    data_dir = ROOT / ".run" / "faults-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    env = {
        "SAGA_DATA_DIR": str(data_dir),
        "ORDER_DATABASE_URL": f"{PG}/order_service",
        "INVENTORY_DATABASE_URL": f"{PG}/inventory_service",
        "ORDER_CELERY_BROKER_URL": "redis://127.0.0.1:26379/0",
        "INVENTORY_CELERY_BROKER_URL": "redis://127.0.0.1:26379/1",
        "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:29092",
        # One plaintext node of its own, whatever shape the surrounding run uses
        # (tests/kafka_cluster has the production shape's faults).
        "KAFKA_BROKERS": "1",
        "KAFKA_SECURITY": "PLAINTEXT",
        "KAFKA_SECURITY_PROTOCOL": "PLAINTEXT",
        "KAFKA_SASL_MECHANISM": "",
        "KAFKA_SSL_CA_LOCATION": "",
        "KAFKA_TOPIC_REPLICATION_FACTOR": "1",
        "ORDER_PORT": "48001",
        "INVENTORY_PORT": "48002",
        "GATEWAY_PORT": "48000",
        "STOREFRONT_PORT": "48003",
        # One web instance per service: the faults here are the events' path, not the web's.
        "WEB_INSTANCES": "1",
        "CONSUMER_PROCESSES": "2",
        "WEB_WORKERS": os.environ.get("FAULTS_WEB_WORKERS", "3"),
        # Longer than any test waits for quiet: the settle task must not repair a lost event
        # (re-ask inventory) before the invariants look.
        "ORDER_SAGA_TIMEOUT_SECONDS": "60",
        "DEMO_USERNAME": USER,
        "DEMO_PASSWORD": PASSWORD,
    }
    # The stack must start its own servers: one found already listening (another fault
    # run on this machine) would be shared, and killed under the other's feet.
    busy = [port for port in (25432, 26379, 29092, 48000, 48001, 48002, 48009) if port_open(port)]
    assert not busy, f"ports {busy} are in use: is another fault-suite run going on?"
    mutant = os.environ.get("FAULTS_MUTANT", "")
    if mutant:
        assert mutant in MUTANTS, f"FAULTS_MUTANT must be one of {sorted(MUTANTS)}"
        # Only the stack's processes load it; the tests themselves run the real code.
        env["PYTHONPATH"] = os.pathsep.join([str(MUTANTS[mutant]), str(ROOT)])
        env["FAULTS_MUTANT"] = mutant
        print(f"FAULTS_MUTANT={mutant}: the stack's consumers lose events on purpose")
    with running_stack(
        env=env,
        namespace=f"faults-{uuid.uuid4().hex[:6]}.",
        run_dir=ROOT / ".run" / "faults",
        storefront=False,
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def orders(stack):
    return Api(stack.order_url, username=USER, password=PASSWORD)


@pytest.fixture(scope="session")
def inventory(stack):
    return Api(stack.inventory_url, username=USER, password=PASSWORD, auth_url=stack.order_url)
