"""KafkaSettings honours the seed's KafkaSettings keys from the environment."""

from shared_events.kafka.config import KafkaSettings


def test_seed_keys_are_read_from_the_environment():
    settings = KafkaSettings.from_env(
        {
            "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
            "KAFKA_ENABLE_AUTO_COMMIT": "true",
            "KAFKA_AUTO_COMMIT_INTERVAL_MS": "1000",
            "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "KAFKA_SASL_MECHANISM": "PLAIN",
            "KAFKA_SASL_USERNAME": "svc",
            "KAFKA_SASL_PASSWORD": "secret",
        }
    )
    consumer = settings.consumer_config("g")
    assert consumer["bootstrap.servers"] == "kafka-1:9092,kafka-2:9092"
    assert consumer["enable.auto.commit"] is True
    assert consumer["auto.commit.interval.ms"] == 1000
    assert consumer["security.protocol"] == "SASL_SSL"
    assert (consumer["sasl.mechanism"], consumer["sasl.username"], consumer["sasl.password"]) == (
        "PLAIN",
        "svc",
        "secret",
    )
    # Offsets are stored by the loop after each commit, never automatically on poll.
    assert consumer["enable.auto.offset.store"] is False


def test_defaults_match_the_seed_development_settings():
    settings = KafkaSettings.from_env({})
    assert settings.bootstrap_servers == "localhost:9092"
    assert settings.enable_auto_commit is False
    assert settings.auto_commit_interval_ms == 5000
    assert "sasl.mechanism" not in settings.client_config()


def test_producer_is_idempotent_and_waits_for_all_replicas():
    producer = KafkaSettings().producer_config()
    assert producer["enable.idempotence"] is True
    assert producer["acks"] == "all"


def test_explicit_defaults_lose_to_the_environment():
    settings = KafkaSettings.from_env(
        {"KAFKA_TOPIC_REPLICATION_FACTOR": "5"}, topic_replication_factor=3
    )
    assert settings.topic_replication_factor == 5
    assert KafkaSettings.from_env({}, topic_replication_factor=3).topic_replication_factor == 3
