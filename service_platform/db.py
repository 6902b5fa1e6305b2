"""Model instances for rows written or read with hand-written SQL."""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


def saved_instance(
    model: type[M], row: Mapping[str, Any], *, prefetched: Mapping[str, Sequence[Model]] = {}
) -> M:
    """The instance a query would have returned for a row already in the database.

    `row` holds a value for every concrete field (by attribute name, e.g. `order_id`).
    `prefetched` gives reverse relations their rows, as `prefetch_related` would: reading
    them costs no query. Only for rows whose every value is known, such as one just written.
    """
    fields = model._meta.concrete_fields
    instance = model.from_db(
        connection.alias, [f.attname for f in fields], [row[f.attname] for f in fields]
    )
    for name, related in prefetched.items():
        # What prefetch_related leaves behind: the relation's queryset, already evaluated.
        queryset = getattr(instance, name).all()
        queryset._result_cache = list(related)
        queryset._prefetch_done = True
        # Django's private prefetch cache: the stubs do not declare it.
        instance._prefetched_objects_cache = {  # type: ignore[attr-defined]
            **getattr(instance, "_prefetched_objects_cache", {}),
            name: queryset,
        }
    return instance
