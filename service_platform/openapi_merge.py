"""One OpenAPI document for the public API behind the gateway, from the services' own.

Plain data in, plain data out (no Django): whoever serves the merged document fetches the
services' documents (`/api/schema/?format=json`) and passes them here.
"""

import copy
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

# What the gateway routes to a service (compose/haproxy/haproxy.cfg); nothing else is public.
PUBLIC_PATH_PREFIXES = ("/api/orders/", "/api/auth/", "/api/products/")
_REF_PREFIX = "#/components/"

Document = Mapping[str, Any]


class OpenApiMergeError(ValueError):
    """Two documents disagree about a path or a component of the same name."""


def openapi_documents_merge(
    documents: Sequence[Document], *, server_url: str, title: str, version: str = "1.0.0"
) -> dict[str, Any]:
    """The public paths of every document, the components they use, and the gateway as server."""
    if not documents:
        raise OpenApiMergeError("no document to merge")
    paths: dict[str, Any] = {}
    components: dict[str, dict[str, Any]] = {}
    tags: dict[str, Any] = {}
    for document in documents:
        for path, item in document.get("paths", {}).items():
            if not path.startswith(PUBLIC_PATH_PREFIXES):
                continue
            if path in paths:
                raise OpenApiMergeError(f"path {path} is in two documents")
            paths[path] = copy.deepcopy(item)
        for section, named in document.get("components", {}).items():
            merged = components.setdefault(section, {})
            for name, value in named.items():
                if name in merged and merged[name] != value:
                    raise OpenApiMergeError(
                        f"components/{section}/{name} differs between documents"
                    )
                merged[name] = copy.deepcopy(value)
        for tag in document.get("tags", []):
            tags.setdefault(tag["name"], tag)
    used = _referenced(paths, components)
    merged_document: dict[str, Any] = {
        "openapi": documents[0].get("openapi", "3.0.3"),
        "info": {"title": title, "version": version},
        "servers": [{"url": server_url}],
        "paths": dict(sorted(paths.items())),
        "components": {
            section: {n: v for n, v in sorted(named.items()) if f"{section}/{n}" in used}
            for section, named in components.items()
            # Security schemes are named by each operation's `security`, not by a $ref.
            if section != "securitySchemes"
        },
    }
    if "securitySchemes" in components:
        merged_document["components"]["securitySchemes"] = components["securitySchemes"]
    if tags:
        merged_document["tags"] = sorted(tags.values(), key=lambda t: t["name"])
    return merged_document


def _referenced(paths: Mapping[str, Any], components: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """ "section/name" of every component the paths use, directly or through other components."""
    used: set[str] = set()
    pending = list(_refs(paths))
    while pending:
        ref = pending.pop()
        if ref in used:
            continue
        used.add(ref)
        section, _, name = ref.partition("/")
        if name not in components.get(section, {}):
            raise OpenApiMergeError(f"#/components/{ref} is referenced but not defined")
        pending.extend(_refs(components[section][name]))
    return used


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        ref = value.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            yield ref.removeprefix(_REF_PREFIX)
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def openapi_document_json(document: Document) -> str:
    return json.dumps(document, indent=2)
