"""The saga's end-to-end tests (tests/e2e/test_saga.py), run whole against this suite's
3-node SASL_SSL stack: each service with its own user and least-privilege ACLs."""

from tests.e2e.test_saga import *  # noqa: F403 - the tests and their `product` fixture
