"""One stack on a 3-node SASL_SSL cluster of its own, shared by every test of this suite.

The cluster is the production shape (`KAFKA_BROKERS=3`, `KAFKA_SECURITY=SASL_SSL`, SCRAM
users per service, least-privilege ACLs), started afresh each session from its own data
folder on its own ports, so that its nodes can be killed without touching anyone else's
broker. PostgreSQL and Redis are reused as the e2e tests reuse them.
"""

import os
import shutil
import uuid

import pytest

from manage_scripts.stack.config import StackConfig
from manage_scripts.stack.provision import databases_drop
from tests.faults.load import port_open
from tests.support.stack import ROOT, Api, running_stack

PG = os.environ.get("E2E_POSTGRES_URL", "postgres://saga:saga@127.0.0.1:5432")
REDIS = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379")
REDIS_DBS = os.environ.get("E2E_REDIS_DBS", "2,3").split(",")
# Beside the e2e stack's ports (P-1..P+21), never the shared broker's or the fault suite's.
ORDER_PORT = int(os.environ.get("E2E_ORDER_PORT", "18001")) + 30
CLIENT_PORTS = [
    int(p) for p in os.environ.get("KAFKA_CLUSTER_PORTS", "19092,19093,19094").split(",")
]
USER, PASSWORD = "cluster", "cluster-password"
SERVICE_PASSWORDS = {"order": "order-secret-1", "inventory": "inventory-secret-1"}


@pytest.fixture(scope="session")
def stack():
    data_dir = ROOT / ".run" / "kafka-cluster-data"
    shutil.rmtree(data_dir, ignore_errors=True)
    busy = [p for port in CLIENT_PORTS for p in (port, port + 100, port + 200) if port_open(p)]
    assert not busy, f"ports {busy} are in use: is another cluster-suite run going on?"
    databases = {
        "ORDER_DATABASE_URL": f"{PG}/kafka_cluster_{ORDER_PORT}_order",
        "INVENTORY_DATABASE_URL": f"{PG}/kafka_cluster_{ORDER_PORT}_inventory",
    }
    databases_drop(databases.values())
    env = {
        **databases,
        "SAGA_DATA_DIR": str(data_dir),
        "KAFKA_BROKERS": "3",
        "KAFKA_SECURITY": "SASL_SSL",
        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "KAFKA_BOOTSTRAP_SERVERS": ",".join(f"127.0.0.1:{p}" for p in CLIENT_PORTS),
        "KAFKA_SASL_USERNAME": "cluster-operator",
        "KAFKA_SASL_PASSWORD": "operator-secret-1",
        **{f"{s.upper()}_KAFKA_SASL_PASSWORD": pw for s, pw in SERVICE_PASSWORDS.items()},
        **{f"{s.upper()}_KAFKA_SASL_USERNAME": f"{s}-service" for s in SERVICE_PASSWORDS},
        "ORDER_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[0]}",
        "INVENTORY_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[1]}",
        "ORDER_PORT": str(ORDER_PORT),
        "INVENTORY_PORT": str(ORDER_PORT + 1),
        "GATEWAY_PORT": str(ORDER_PORT - 1),
        "STOREFRONT_PORT": str(ORDER_PORT + 2),
        "STOREFRONT_REDIS_URL": f"{REDIS}/{os.environ.get('E2E_STOREFRONT_REDIS_DB', '7')}",
        "WEB_INSTANCES": "1",
        "WEB_WORKERS": "2",
        # Longer than any test waits for quiet: the settle task must not repair a lost event.
        "ORDER_SAGA_TIMEOUT_SECONDS": "90",
        # Few tries before a refused message would be parked: a refused ACL must not be.
        "OUTBOX_MAX_ATTEMPTS": "2",
        "DEMO_USERNAME": USER,
        "DEMO_PASSWORD": PASSWORD,
    }
    # The tests' own clients: the operator's settings (a super user), as the stack's.
    env |= StackConfig.from_env({**os.environ, **env}).kafka_env()
    with running_stack(
        env=env,
        namespace=f"cluster-{uuid.uuid4().hex[:6]}.",
        run_dir=ROOT / ".run" / f"kafka-cluster-{ORDER_PORT}",
        storefront=False,
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def orders(stack):
    return Api(stack.order_url, username=USER, password=PASSWORD)


@pytest.fixture(scope="session")
def inventory(stack):
    return Api(stack.inventory_url, username=USER, password=PASSWORD, auth_url=stack.order_url)
