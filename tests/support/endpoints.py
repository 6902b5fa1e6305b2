"""Every API operation a service routes, so a permission test can prove it covers them all."""

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

OPERATIONS = ("get", "post", "put", "patch", "delete")


def api_operations(prefix: str) -> set[tuple[str, str]]:
    """(METHOD, route) for each view method under the routes starting with `prefix`."""
    found: set[tuple[str, str]] = set()
    for route, view in _routes(get_resolver().url_patterns, ""):
        if not route.startswith(prefix):
            continue
        view_class: Any = getattr(view, "view_class", None) or getattr(view, "cls", None)
        for method in OPERATIONS:
            if view_class is not None and hasattr(view_class, method):
                found.add((method.upper(), route))
    return found


def _routes(patterns: list[Any], prefix: str) -> list[tuple[str, Any]]:
    routes = []
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes += _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.append((prefix + str(pattern.pattern), pattern.callback))
    return routes
