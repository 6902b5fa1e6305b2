"""Identity: short-lived RS256 access tokens (djangorestframework-simplejwt).

The order service signs them with the private key; every service checks them with the
public key alone. A token carries what authorization needs (user id, staff or not), so no
service asks another who a user is.
"""

from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from service_platform.settings.common import env
from service_platform.signing_keys import key_pair_files_ensure, public_key_of

TOKEN_ISSUER = "saga-order-service"
TOKEN_AUDIENCE = "saga-api"
# Development and tests only: a pair written on first use, never committed (.run/ is ignored).
DEV_KEYS_DIR = Path(__file__).resolve().parents[2] / ".run" / "jwt-dev"


def _pem(name: str) -> str:
    """A PEM key from `NAME`, or from the file `NAME_FILE` names (a mounted secret)."""
    value: str = env.str(name, default="")
    path = env.str(f"{name}_FILE", default="")
    if not value and path:
        value = Path(path).read_text()
    return value.replace("\\n", "\n").strip()


def signing_keys(*, issues_tokens: bool, production: bool) -> tuple[str, str]:
    """(private key, "" for a service that issues no tokens; public key).

    Production refuses to start without its key; elsewhere a missing key falls back to the
    development pair.
    """
    private = _pem("JWT_PRIVATE_KEY") if issues_tokens else ""
    public = _pem("JWT_PUBLIC_KEY")
    if production:
        if issues_tokens and not private:
            raise ImproperlyConfigured(
                "JWT_PRIVATE_KEY (or JWT_PRIVATE_KEY_FILE) must be set in production"
            )
        if not issues_tokens and not public:
            raise ImproperlyConfigured(
                "JWT_PUBLIC_KEY (or JWT_PUBLIC_KEY_FILE) must be set in production"
            )
    elif (issues_tokens and not private) or not public:
        files = key_pair_files_ensure(DEV_KEYS_DIR)
        private = private or (files.private.read_text() if issues_tokens else "")
        public = public or files.public.read_text()
    if issues_tokens:
        public = public_key_of(private)
    return private, public


def simple_jwt_settings(*, issues_tokens: bool, production: bool = False) -> dict[str, Any]:
    """SIMPLE_JWT for a service: RS256, our issuer and audience, short-lived access tokens."""
    private, public = signing_keys(issues_tokens=issues_tokens, production=production)
    return {
        "ALGORITHM": "RS256",
        "SIGNING_KEY": private,
        "VERIFYING_KEY": public,
        "ISSUER": TOKEN_ISSUER,
        "AUDIENCE": TOKEN_AUDIENCE,
        "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=5)),
        "REFRESH_TOKEN_LIFETIME": timedelta(hours=env.int("JWT_REFRESH_HOURS", default=24)),
        # Clocks of two hosts may differ by a few seconds.
        "LEEWAY": 5,
        "USER_ID_CLAIM": "user_id",
        "UPDATE_LAST_LOGIN": False,
        "TOKEN_OBTAIN_SERIALIZER": "order_service.accounts.apis.TokenObtainInputSerializer",
        "TOKEN_REFRESH_SERIALIZER": "order_service.accounts.apis.TokenRefreshInputSerializer",
    }
