"""Start the real stack (`manage_scripts.stack`), isolated from a developer's own stack.

It gets its own databases, Redis databases, ports, run directory and a Kafka namespace,
and reuses whatever PostgreSQL, Redis and Kafka are already running (or starts them).
"""

import os
import uuid

import pytest

from manage_scripts.stack.config import ROOT
from manage_scripts.stack.provision import databases_drop
from tests.support.stack import Api, running_stack

PG = os.environ.get("E2E_POSTGRES_URL", "postgres://saga:saga@127.0.0.1:5432")
REDIS = os.environ.get("E2E_REDIS_URL", "redis://127.0.0.1:6379")
# Two e2e runs side by side need other ports and Redis databases.
ORDER_PORT = int(os.environ.get("E2E_ORDER_PORT", "18001"))
REDIS_DBS = os.environ.get("E2E_REDIS_DBS", "2,3").split(",")
# The storefront's sessions and order streams.
STOREFRONT_REDIS_DB = os.environ.get("E2E_STOREFRONT_REDIS_DB", "7")
USER, PASSWORD = "e2e", "e2e-password"
GATEWAY_RATE_LIMIT = 1000


@pytest.fixture(scope="session")
def stack():
    databases = {
        "ORDER_DATABASE_URL": f"{PG}/e2e_{ORDER_PORT}_order_service",
        "INVENTORY_DATABASE_URL": f"{PG}/e2e_{ORDER_PORT}_inventory_service",
    }
    databases_drop(databases.values())  # the stack creates and migrates them afresh
    env = {
        **databases,
        "ORDER_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[0]}",
        "INVENTORY_CELERY_BROKER_URL": f"{REDIS}/{REDIS_DBS[1]}",
        "ORDER_PORT": str(ORDER_PORT),
        "INVENTORY_PORT": str(ORDER_PORT + 1),
        "GATEWAY_PORT": str(ORDER_PORT - 1),
        "STOREFRONT_PORT": str(ORDER_PORT + 2),
        "WEB_INSTANCES": "2",
        # Per address per 10 s: above what the tests send from 127.0.0.1; the rate limit's
        # own test sends from another loopback address.
        "GATEWAY_RATE_LIMIT": str(GATEWAY_RATE_LIMIT),
        "STOREFRONT_REDIS_URL": f"{REDIS}/{STOREFRONT_REDIS_DB}",
        "DEMO_USERNAME": USER,
        "DEMO_PASSWORD": PASSWORD,
    }
    with running_stack(
        env=env,
        namespace=f"e2e-{uuid.uuid4().hex[:8]}.",
        run_dir=ROOT / ".run" / f"e2e-{ORDER_PORT}",
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
def orders(stack):
    return Api(stack.order_url, username=USER, password=PASSWORD)


@pytest.fixture(scope="session")
def inventory(stack):
    return Api(stack.inventory_url, username=USER, password=PASSWORD, auth_url=stack.order_url)
