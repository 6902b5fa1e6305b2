"""The token lookup the API used before bearer access tokens: no longer among the API's
authentication classes, kept as the baseline the bench measures them against
(manage_scripts/benchmarks/authentication.py)."""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import authentication, exceptions

from service_platform.db import saved_instance
from service_platform.sql import user_by_token


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token <key>` check, with the user read by one plain join.

    Same answers as DRF's: an unknown key or an inactive user is refused ("Invalid token.",
    "User inactive or deleted."), and `request.auth` is the token. The join, read into a user
    without a query set, replaces DRF's ORM lookup (bench-reports/history.md).
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token_model = self.get_model()
        user_model = get_user_model()
        found = user_by_token(key, user_model=user_model, token_model=token_model)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        user = saved_instance(user_model, found.user)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token = saved_instance(
            token_model, {"key": key, "user_id": user.pk, "created": found.token_created}
        )
        token.user = user  # type: ignore[attr-defined]  # get_model() is typed as Model
        return user, token
