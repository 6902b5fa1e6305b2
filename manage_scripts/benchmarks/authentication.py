"""Figure: what checking one request's credentials costs, measured in one process and one run:
the bearer access token (an RS256 signature check, no database read) against the token
lookup it replaced (one join, `service_platform.authentication.TokenAuthentication`) and
HTTP Basic (PBKDF2), on the same machine and database, in alternating rounds.

`run` starts `python -m manage_scripts.benchmarks.authentication` with the bench's order
database (migrated); the user and token it makes are rolled back.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

from manage_scripts.benchmarks.isolation import BenchEnv
from manage_scripts.benchmarks.stats import spread
from manage_scripts.stack.config import ROOT

BASIC_CALLS = 3  # PBKDF2 takes a large part of a second: a few calls tell enough


def run(bench: BenchEnv, plan: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "manage_scripts.benchmarks.authentication",
            "--requests",
            str(plan["auth_requests"]),
            "--rounds",
            str(plan["repeats"]),
        ],
        cwd=ROOT,
        env=bench.service_env("order", namespace=bench.namespace("auth")),
        capture_output=True,
        text=True,
        check=True,
        timeout=900,
    )
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def measure(*, requests: int, rounds: int) -> dict[str, Any]:
    """Microseconds per authenticated request for each scheme, spread over `rounds`."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from rest_framework.authentication import BasicAuthentication
    from rest_framework.authtoken.models import Token
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory
    from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication
    from rest_framework_simplejwt.tokens import AccessToken

    from order_service.accounts.services import token_claims
    from service_platform.authentication import TokenAuthentication

    factory = APIRequestFactory()
    timings: dict[str, list[float]] = {"jwt_rs256": [], "token_lookup": [], "basic_pbkdf2": []}
    with transaction.atomic():
        user = get_user_model().objects.create_user("bench-auth", password="bench-auth-password")  # noqa: S106 - a throwaway user, rolled back
        key = Token.objects.create(user=user).key
        access = AccessToken.for_user(user)
        for name, value in token_claims(user).items():
            access[name] = value
        schemes = {
            "jwt_rs256": (JWTStatelessUserAuthentication(), f"Bearer {access}", requests),
            "token_lookup": (TokenAuthentication(), f"Token {key}", requests),
            "basic_pbkdf2": (
                BasicAuthentication(),
                "Basic YmVuY2gtYXV0aDpiZW5jaC1hdXRoLXBhc3N3b3Jk",  # bench-auth:bench-auth-password
                BASIC_CALLS,
            ),
        }
        for _ in range(rounds):
            for name, (scheme, header, calls) in schemes.items():
                request = Request(factory.get("/api/orders/", HTTP_AUTHORIZATION=header))
                assert scheme.authenticate(request) is not None, name
                started = time.perf_counter()
                for _ in range(calls):
                    scheme.authenticate(request)
                timings[name].append((time.perf_counter() - started) / calls * 1e6)
        transaction.set_rollback(True)
    return {
        "description": "microseconds per request to authenticate it, in one process",
        "requests_per_round": requests,
        "basic_calls_per_round": BASIC_CALLS,
        "per_request": {name: spread(values, "µs") for name, values in timings.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "order_service.settings.dev")
    print(json.dumps(measure(requests=args.requests, rounds=args.rounds)))


if __name__ == "__main__":
    main()
