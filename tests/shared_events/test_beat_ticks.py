"""Beat ticks that wait too long expire instead of piling up, with the real schedule and
a real Celery worker (in this process, on an in-memory broker)."""

import time

import pytest
from celery import Celery
from celery.beat import ScheduleEntry, Scheduler
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun, task_revoked

import shared_events.django.tasks  # noqa: F401  (registers the sweep with every app)

SWEEP = "relay-outbox-sweep"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def app():
    app = Celery("beat-ticks")
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = "memory://"
    return app


def test_sweep_ticks_that_waited_too_long_expire_instead_of_piling_up(app):
    # given five sweep ticks sent by beat, with its options, while no worker was free
    entry = ScheduleEntry(app=app, name=SWEEP, **app.conf.beat_schedule[SWEEP])
    beat = Scheduler(app, lazy=True)
    stale = {beat.apply_async(entry, producer=None).id for _ in range(5)}
    interval = app.conf.beat_schedule[SWEEP]["schedule"].total_seconds()
    time.sleep(interval + 0.5)  # the worker stays busy past the next tick
    ran: list[str] = []
    discarded_ids: list[str] = []

    def started(task_id, **_) -> None:
        ran.append(task_id)

    def discarded(request, expired: bool, **_) -> None:
        if expired:
            discarded_ids.append(request.id)

    task_prerun.connect(started)
    task_revoked.connect(discarded)

    # when a worker gets to them, and beat then sends one more
    try:
        with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=30):
            deadline = time.monotonic() + 30
            while len(discarded_ids) < 5:
                assert time.monotonic() < deadline, f"only {len(discarded_ids)} tick(s) expired"
                time.sleep(0.05)
            fresh = beat.apply_async(entry, producer=None).id
            while fresh not in ran:
                assert time.monotonic() < deadline, "a fresh tick did not run"
                time.sleep(0.05)
    finally:
        task_prerun.disconnect(started)
        task_revoked.disconnect(discarded)

    # then the stale ticks were discarded unrun, and only the fresh one swept the outbox
    assert set(discarded_ids) == stale
    assert not stale & set(ran)
