"""Celery worker metrics on their own port (`METRICS_PORT`), for hosts where the worker does
not share a multiprocess folder with the web process (one container per process)."""

import os
from typing import Any

from celery.signals import worker_ready

from shared_events.observability.metrics import metrics_server_start


@worker_ready.connect
def metrics_server_on_worker_ready(**_kwargs: Any) -> None:
    # In the main worker process: with PROMETHEUS_MULTIPROC_DIR it serves every pool
    # process's counters, without it only its own (run the pool with --pool threads/solo).
    port = int(os.environ.get("METRICS_PORT") or 0)
    if port:
        metrics_server_start(port)
