"""Messaging shared by both services: event contracts, Kafka plumbing, outbox and inbox."""
