"""API token authentication."""

import functools
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Model
from rest_framework import authentication, exceptions


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's `Authorization: Token <key>` check, with the user read by one plain join.

    Same answers as DRF's: an unknown key or an inactive user is refused ("Invalid token.",
    "User inactive or deleted."), and `request.auth` is the token. DRF's ORM lookup was the
    largest part of placing an order after the order itself; the join, read into a user
    without a query set, costs a fraction of it (bench-reports/history.md).
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        token_model = self.get_model()
        user_model = get_user_model()
        with connection.cursor() as cursor:
            cursor.execute(_user_by_token_sql(user_model, token_model), [key])
            row = cursor.fetchone()
        if row is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        *user_values, token_created = row
        user = user_model.from_db(connection.alias, _attnames(user_model), user_values)
        if not user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        token = token_model(key=key, user=user, created=token_created)
        token._state.adding, token._state.db = False, connection.alias
        return user, token


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@functools.cache
def _user_by_token_sql(user_model: type[Model], token_model: type[Model]) -> str:
    """The user's columns, in `_attnames` order, and the token's creation time."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"u.{quote(f.column)}" for f in user_model._meta.concrete_fields)
    return (
        f"SELECT {columns}, t.{quote('created')}"
        f" FROM {quote(user_model._meta.db_table)} u"
        f" JOIN {quote(token_model._meta.db_table)} t"
        f" ON t.{quote('user_id')} = u.{quote(user_model._meta.pk.column)}"
        f" WHERE t.{quote('key')} = %s"
    )
