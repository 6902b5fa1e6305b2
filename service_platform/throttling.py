"""Throttles: counted in Redis, so every worker of a service shares one count; a throttled
request gets 429 with Retry-After.

Rates are `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]` (service_platform.settings.common),
read when a request comes, so a test can change them.
"""

import functools
import hashlib
import logging
from collections.abc import Callable
from typing import Any

import jwt
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse, JsonResponse
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.settings import api_settings

THROTTLE_CACHE = "throttle"

logger = logging.getLogger(__name__)


class SharedRateThrottle(throttling.SimpleRateThrottle):
    """A rate per scope and key, counted in the shared throttle cache."""

    def __init__(self) -> None:
        self.cache = caches[THROTTLE_CACHE]
        super().__init__()

    def allow_request(self, request: Request, view: Any) -> bool:
        # Placing an order needs PostgreSQL alone (the outbox relays it later): a Redis
        # outage lifts the throttles for its duration rather than failing every request.
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            logger.warning("throttle %s not applied: Redis unreachable (%s)", self.scope, exc)
            return True

    def get_rate(self) -> str | None:
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES  # the stubs say numbers
        return rates.get(self.scope or "")

    def key_for(self, identity: str | None) -> str:
        # Hashed: a client's text never becomes a raw cache key. No address (a request over
        # a Unix socket) shares one counter.
        digest = hashlib.sha256((identity or "").encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}


class CredentialsIpThrottle(SharedRateThrottle):
    """Log-ins and refreshes from one address."""

    scope = "credentials_ip"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.key_for(self.get_ident(request))


class CredentialsUsernameThrottle(SharedRateThrottle):
    """Log-ins and registrations naming one account, from wherever they come."""

    scope = "credentials_user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        if not isinstance(username, str) or not username:
            return None
        return self.key_for(username.lower())


class RefreshUserThrottle(SharedRateThrottle):
    """Refreshes for one account, by the user id the refresh token names.

    The claim is read unverified: it only picks the counter, the view checks the signature.
    """

    scope = "credentials_user"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        token = request.data.get("refresh") if hasattr(request.data, "get") else None
        if not isinstance(token, str):
            return None
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return None
        user_id = claims.get("user_id")
        return self.key_for(f"id:{user_id}") if user_id is not None else None


class RegisterIpThrottle(SharedRateThrottle):
    scope = "register_ip"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.key_for(self.get_ident(request))


class OrderCreateThrottle(SharedRateThrottle):
    """Orders placed by one user."""

    scope = "order_create"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.method != "POST" or not request.user.is_authenticated:
            return None
        return self.key_for(str(request.user.pk))


class AnonReadThrottle(SharedRateThrottle):
    """Anonymous reads from one address."""

    scope = "anon_read"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user.is_authenticated:
            return None
        return self.key_for(self.get_ident(request))


class AdminLoginIpThrottle(SharedRateThrottle):
    scope = "admin_login_ip"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        return self.key_for(self.get_ident(request))


def admin_login_throttled(login: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The admin's login view, with its POSTs throttled per address and per username."""

    @functools.wraps(login)
    def throttled_login(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            drf_request = Request(request, parsers=[FormParser(), MultiPartParser()])
            for throttle in (AdminLoginIpThrottle(), CredentialsUsernameThrottle()):
                if not throttle.allow_request(drf_request, None):
                    wait = throttle.wait() or 60
                    response = JsonResponse({"detail": "Too many log-in attempts."}, status=429)
                    response["Retry-After"] = str(int(wait) + 1)
                    return response
        return login(request, *args, **kwargs)

    return throttled_login
