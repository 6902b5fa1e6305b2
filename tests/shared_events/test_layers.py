"""Imports run down the layers only: messaging never imports the HTTP platform or a service,
and inside messaging the foundations never import what is built on them."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lowest first: a module may import its own layer and the layers before it, never after.
LAYERS = [
    (
        "contracts",
        [
            "shared_events.errors",
            "shared_events.headers",
            "shared_events.topics",
            "shared_events.contracts",
            "shared_events.envelope",
            "shared_events.registry",
        ],
    ),
    ("observability", ["shared_events.observability"]),
    ("kafka", ["shared_events.kafka"]),
    ("django", ["shared_events.django"]),
    ("platform", ["service_platform"]),
    ("services", ["order_service", "inventory_service"]),
]


def _layer(module: str) -> int | None:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def _module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def _project_modules() -> list[Path]:
    return sorted(
        path
        for package in ("shared_events", "service_platform", "order_service", "inventory_service")
        for path in (ROOT / package).rglob("*.py")
    )


def _upward_imports() -> list[str]:
    found = []
    for path in _project_modules():
        module = _module_name(path)
        own = _layer(module)
        if own is None and module == "shared_events":
            continue  # the package's docstring
        assert own is not None, f"{module} belongs to no layer"
        for imported in _imports(path):
            target = _layer(imported)
            if target is not None and target > own:
                found.append(f"{module} imports {imported} ({LAYERS[target][0]} layer)")
    return found


def test_no_module_imports_a_layer_above_its_own():
    assert _upward_imports() == []


@pytest.mark.parametrize(
    ("service", "other"),
    [("order_service", "inventory_service"), ("inventory_service", "order_service")],
)
def test_a_service_never_imports_the_other(service, other):
    offending = [
        str(path.relative_to(ROOT))
        for path in (ROOT / service).rglob("*.py")
        if any(name == other or name.startswith(other + ".") for name in _imports(path))
    ]
    assert offending == []
