"""Structured logs: JSON in production, text in development, event context on each line."""

import io
import json
import logging
import logging.config

import pytest
from confluent_kafka import Message

from service_platform.settings.logging import logging_settings
from shared_events.observability.logging import (
    log_context_bind,
    log_context_clear,
    message_log_context,
)


@pytest.fixture
def capture():
    """Log through the project's formatter of the given format into a buffer."""
    handlers: list[logging.Handler] = []
    logger = logging.getLogger("test.structured")

    def configure(fmt: str) -> io.StringIO:
        config = logging_settings(fmt=fmt)
        formatter = logging.config.dictConfigClass(config).configure_custom(
            dict(config["formatters"]["saga"])
        )
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        handlers.append(handler)
        return stream

    yield configure, logger
    for handler in handlers:
        logger.removeHandler(handler)
    log_context_clear()


def test_json_lines_carry_the_consumed_events_context(capture):
    configure, logger = capture
    stream = configure("json")
    message = Message(
        topic="order-events",
        partition=3,
        offset=42,
        value=b"{}",
        headers=[
            ("event_type", b"OrderCreatedIntegrationEvent"),
            ("correlation_id", b"order-1"),
            ("event_id", b"e-1"),
        ],
    )

    message_log_context(message)
    logger.info("reserved %d line(s)", 2, extra={"sku": "KEYBOARD-01"})

    line = json.loads(stream.getvalue())
    assert line["event"] == "reserved 2 line(s)"
    assert line["level"] == "info" and line["logger"] == "test.structured"
    assert line["correlation_id"] == "order-1"
    assert line["event_id"] == "e-1" and line["event_type"] == "OrderCreatedIntegrationEvent"
    assert (line["kafka_topic"], line["kafka_partition"], line["kafka_offset"]) == (
        "order-events",
        "3",
        "42",
    )
    assert line["sku"] == "KEYBOARD-01" and "timestamp" in line


def test_text_lines_are_readable_and_keep_the_context(capture):
    configure, logger = capture
    stream = configure("text")
    log_context_bind(correlation_id="order-2")

    logger.warning("stock low")

    text = stream.getvalue()
    assert "stock low" in text and "warning" in text
    assert "correlation_id=order-2" in text
    assert not text.lstrip().startswith("{")


def test_the_context_is_cleared_between_messages(capture):
    configure, logger = capture
    stream = configure("json")
    message_log_context(Message(topic="t", headers=[("correlation_id", b"first")]))
    message_log_context(Message(topic="t", headers=[]))

    logger.info("next")

    assert "correlation_id" not in json.loads(stream.getvalue())


def test_production_logs_json_and_development_text(monkeypatch):
    from service_platform.settings.hardening import production_settings

    monkeypatch.setenv("DJANGO_SECRET_KEY", "abcdefghij" * 5)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "example.com")
    renderer = production_settings()["LOGGING"]["formatters"]["saga"]["processors"][-1]
    assert type(renderer).__name__ == "JSONRenderer"
    assert type(logging_settings()["formatters"]["saga"]["processors"][-1]).__name__ == (
        "ConsoleRenderer"
    )
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logging_settings(fmt="xml")


@pytest.mark.django_db
def test_requests_about_an_order_are_logged_with_its_correlation_id(client, caplog):
    import uuid

    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_user("reader"))
    order_id = uuid.uuid4()
    with caplog.at_level(logging.INFO, logger="shared_events.request"):
        response = client.get(f"/api/orders/{order_id}/", HTTP_X_REQUEST_ID="req-1")

    assert response["X-Request-ID"] == "req-1"
    [record] = [r for r in caplog.records if r.name == "shared_events.request"]
    assert record.getMessage() == f"GET /api/orders/{order_id}/ 404"
    assert record.http_status == 404
