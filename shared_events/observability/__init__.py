"""Seeing the event flow: structured logs, Prometheus metrics, health checks, tracing, timelines."""
