"""A deliberately broken consumer, to prove the fault suite can fail.

Put on the stack's PYTHONPATH by `FAULTS_MUTANT=lose-events` (tests/faults/conftest.py):
about one handled event in forty is taken for a duplicate, so its id is recorded, its
effect never applied and its offset committed, exactly as a lost redelivery would be.
"""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import zlib
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

INBOX = "shared_events.django.inbox"
ONE_IN = 40


def _losing(record: Callable[[Sequence[Any]], set[Any]]) -> Callable[[Sequence[Any]], set[Any]]:
    def record_and_lose(events: Sequence[Any]) -> set[Any]:
        new_ids = record(events)
        lost = {e.event_id for e in events if zlib.crc32(str(e.event_id).encode()) % ONE_IN == 0}
        for event_id in sorted(map(str, lost & new_ids)):
            print(f"mutant: lost event {event_id}", file=sys.stderr, flush=True)
        return new_ids - lost

    return record_and_lose


class _InboxPatcher(importlib.abc.MetaPathFinder):
    """Wrap the inbox's id recording as soon as the module is loaded."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != INBOX:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.loader is not None, f"{INBOX} not found"
        exec_module = spec.loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            module._processed_events_record = _losing(module._processed_events_record)

        spec.loader.exec_module = exec_and_patch
        return spec


if os.environ.get("FAULTS_MUTANT") == "lose-events":
    sys.meta_path.insert(0, _InboxPatcher())
