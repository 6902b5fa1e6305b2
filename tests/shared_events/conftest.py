import pytest

from shared_events.django.conf import events_config
from shared_events.kafka.admin import topics_ensure, wait_for_broker


@pytest.fixture(scope="session")
def kafka_settings():
    settings = events_config().kafka
    wait_for_broker(settings, timeout=30)
    topics_ensure(settings)
    return settings
