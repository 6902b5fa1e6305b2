"""Processed-event ids outlive every message Kafka could still deliver: a configuration
where they would not is refused at start-up."""

import dataclasses
import uuid

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from shared_events.django.conf import events_config, retention_problem
from shared_events.kafka.admin import topics_ensure
from shared_events.kafka.config import DAY_MS, KafkaSettings

DEFAULT = KafkaSettings()  # topics: 7 days + 1-day segments; the broker's offsets: 7 days


@pytest.mark.parametrize(
    ("retention_days", "kafka", "problem"),
    [
        pytest.param(9, DEFAULT, None, id="defaults"),
        pytest.param(8, DEFAULT, "can stay on a topic", id="equal-to-message-lifetime"),
        pytest.param(7, DEFAULT, "can stay on a topic", id="equal-to-topic-retention"),
        pytest.param(
            9,
            dataclasses.replace(DEFAULT, offsets_retention_minutes=9 * 24 * 60),
            "keeps committed offsets",
            id="equal-to-offset-retention",
        ),
        pytest.param(
            30,
            dataclasses.replace(DEFAULT, topic_retention_ms=-1),
            "can stay on a topic",
            id="topics-kept-forever",
        ),
        pytest.param(
            2,
            dataclasses.replace(
                DEFAULT, topic_retention_ms=DAY_MS // 2, offsets_retention_minutes=24 * 60
            ),
            None,
            id="short-retention-everywhere",
        ),
    ],
)
def test_dedupe_must_outlive_topics_and_committed_offsets(retention_days, kafka, problem):
    found = retention_problem(retention_days=retention_days, kafka=kafka)

    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


@pytest.fixture
def fresh_config():
    events_config.cache_clear()
    yield
    events_config.cache_clear()


def test_start_up_refuses_dedupe_that_is_not_longer(settings, fresh_config):
    # given ids purged after 7 days, as long as Kafka keeps messages
    settings.SHARED_EVENTS = {**settings.SHARED_EVENTS, "RETENTION_DAYS": 7}

    # when / then: the system check and the configuration itself refuse it
    with pytest.raises(SystemCheckError, match=r"shared_events\.E001"):
        call_command("check")
    with pytest.raises(ImproperlyConfigured, match="EVENTS_RETENTION_DAYS"):
        events_config()


def test_the_default_configuration_passes_the_check(fresh_config):
    call_command("check")
    assert events_config().retention_days == 9


@pytest.mark.kafka
def test_created_topics_carry_the_retention_the_check_assumes(kafka_settings):
    # given a topic the project creates
    name = f"{kafka_settings.namespace}retention-{uuid.uuid4().hex[:8]}"
    topics_ensure(kafka_settings, [name])

    # when the broker is asked for its configuration
    admin = AdminClient(kafka_settings.client_config())
    [future] = admin.describe_configs([ConfigResource("topic", name)]).values()
    config = future.result()

    # then
    assert config["retention.ms"].value == str(kafka_settings.topic_retention_ms)
    assert config["segment.ms"].value == str(kafka_settings.topic_segment_ms)
