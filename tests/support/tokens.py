"""Access tokens for tests: signed with the development private key, as the order service
signs them, or broken on purpose."""

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt

from service_platform.settings.identity import (
    DEV_KEYS_DIR,
    TOKEN_AUDIENCE,
    TOKEN_ISSUER,
    signing_keys,
)
from service_platform.signing_keys import key_pair_files_ensure


def dev_private_key() -> str:
    return key_pair_files_ensure(DEV_KEYS_DIR).private.read_text()


def access_token(
    user_id: object,
    *,
    is_staff: bool = False,
    username: str = "someone",
    key: str | None = None,
    algorithm: str = "RS256",
    **claims: Any,
) -> str:
    """An access token as the order service issues it; `claims` override or add claims."""
    now = int(time.time())
    payload = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": f"test-{now}-{user_id}",
        "user_id": str(user_id),
        "username": username,
        "is_staff": is_staff,
        "iss": TOKEN_ISSUER,
        "aud": TOKEN_AUDIENCE,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    if algorithm == "HS256" and key is not None:
        return _hs256(payload, key)
    return jwt.encode(payload, dev_private_key() if key is None else key, algorithm=algorithm)


def _hs256(payload: dict[str, Any], secret: str) -> str:
    """HS256 by hand: PyJWT refuses a PEM key as an HMAC secret, an attacker's library need not
    (the algorithm confusion a verifier must not fall for)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = part(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = part(json.dumps(payload).encode())
    signature = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{part(signature)}"


def public_key() -> str:
    return signing_keys(issues_tokens=False, production=False)[1]
