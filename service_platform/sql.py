"""The platform's hand-written SQL: the token check every authenticated request makes.

DRF's ORM lookup of the token and its user was the largest part of placing an order after
the order itself; one plain join, read into a user without a query set, costs a fraction
of it (bench-reports/history.md).
"""

import functools
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Model


class UserByToken(NamedTuple):
    user: dict[str, Any]  # the user's columns, by attribute name
    token_created: datetime


def user_by_token(
    key: str, *, user_model: type[Model], token_model: type[Model]
) -> UserByToken | None:
    """The user a token key belongs to, and when the token was created; None for no such key."""
    with connection.cursor() as cursor:
        cursor.execute(_user_by_token_sql(user_model, token_model), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    *user_values, token_created = row
    return UserByToken(dict(zip(_attnames(user_model), user_values, strict=True)), token_created)


@functools.cache
def _attnames(model: type[Model]) -> list[str]:
    return [field.attname for field in model._meta.concrete_fields]


@functools.cache
def _user_by_token_sql(user_model: type[Model], token_model: type[Model]) -> str:
    """The user's columns, in `_attnames` order, and the token's creation time."""
    quote = connection.ops.quote_name
    user_pk = user_model._meta.pk
    assert user_pk is not None
    columns = ", ".join(f"u.{quote(f.column)}" for f in user_model._meta.concrete_fields)
    return (
        f"SELECT {columns}, t.{quote('created')}"  # noqa: S608 - quoted table and column names of the models; the key is a parameter
        f" FROM {quote(user_model._meta.db_table)} u"
        f" JOIN {quote(token_model._meta.db_table)} t"
        f" ON t.{quote('user_id')} = u.{quote(user_pk.column)}"
        f" WHERE t.{quote('key')} = %s"
    )
