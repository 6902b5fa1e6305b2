"""Generated requests against a service's own OpenAPI schema (schemathesis), in process.

Every answer must be documented (status, content type, body, headers), and none may be a
server error. Requests go through Django's WSGI handler inside the test's transaction.
"""

import contextlib
from collections.abc import Iterator
from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.tokens import access_token

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Per operation and role; CI runs them all.
FUZZ_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
STATEFUL_SETTINGS = settings(
    max_examples=25,
    stateful_step_count=6,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
ROLES = {
    "customer": {"user_id": 4001, "username": "fuzz-customer", "is_staff": False},
    "staff": {"user_id": 4002, "username": "fuzz-staff", "is_staff": True},
}


def fuzz(role: str) -> tuple[int, list[str]]:
    """Run generated requests against every operation as `role`: (cases sent, failures)."""
    with same_connection():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
        headers = bearer(role)
        sent = 0
        failures = []
        for result in schema.get_all_operations():
            operation = result.ok()

            @given(case=operation.as_strategy())
            @FUZZ_SETTINGS
            def run(case: Any) -> None:
                nonlocal sent
                sent += 1
                case.call_and_validate(headers=headers, checks=CHECKS)

            try:
                run()
            except Exception as exc:  # noqa: BLE001 - every operation's failure is reported
                failures.append(f"{operation.label}: {exc}")
        return sent, failures


def fuzz_stateful(role: str) -> int:
    """Chains of calls that follow the schema's links (an order placed, then read, patched,
    cancelled...), as `role`; every answer checked as in `fuzz`. How many operations a link
    leads to."""
    with same_connection():
        schema = schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())
        headers = bearer(role)
        linked = schema.operations_with_incoming_links()
        machine: Any = schema.as_state_machine()

        class Walk(machine):  # type: ignore[misc, valid-type]
            # Each chain starts from the same data: what the next one generates must not
            # depend on what an earlier one left behind (Hypothesis replays chains).
            def setup(self) -> None:
                self.savepoint = transaction.savepoint()

            def teardown(self) -> None:
                transaction.savepoint_rollback(self.savepoint)

            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"headers": headers}

            def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
                case.validate_response(response, checks=CHECKS)

        Walk.run(settings=STATEFUL_SETTINGS)
        return len(linked)


def service_schema() -> schemathesis.BaseSchema:
    with same_connection():
        return schemathesis.openapi.from_wsgi("/api/schema/", WSGIHandler())


def bearer(role: str) -> dict[str, str]:
    claims = dict(ROLES[role])
    return {"Authorization": f"Bearer {access_token(claims.pop('user_id'), **claims)}"}


@contextlib.contextmanager
def same_connection() -> Iterator[None]:
    """Keep the test's database connection across requests, as Django's test client does
    (the handler would close it at each request's start, and the test's transaction too)."""
    request_started.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
