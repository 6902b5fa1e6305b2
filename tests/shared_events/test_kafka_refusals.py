"""A client the cluster will not let in says so in one line per kind of refusal."""

import logging

from confluent_kafka import KafkaError

from shared_events.kafka.config import refusal_logger

BAD_CERTIFICATE = (
    "ssl://127.0.0.1:19292/bootstrap: Receive failed: error:0A000412:SSL routines::"
    "ssl/tls alert bad certificate: SSL alert number 42"
)


def test_each_kind_of_refusal_is_logged_once(caplog):
    caplog.set_level(logging.ERROR, logger="shared_events.kafka.config")
    on_error = refusal_logger()

    for _ in range(3):
        on_error(KafkaError(KafkaError.SASL_AUTHENTICATION_FAILED, "Invalid credentials"))
        on_error(KafkaError(KafkaError._TRANSPORT, BAD_CERTIFICATE))

    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert "authentication failed" in lines[0]
    assert "the brokers refused this client's certificate" in lines[1]


def test_a_broker_going_away_is_not_a_refusal(caplog):
    caplog.set_level(logging.ERROR, logger="shared_events.kafka.config")
    on_error = refusal_logger()

    on_error(KafkaError(KafkaError._TRANSPORT, "Connection refused (after 0ms in state CONNECT)"))
    on_error(KafkaError(KafkaError._ALL_BROKERS_DOWN, "3/3 brokers are down"))

    assert caplog.records == []
