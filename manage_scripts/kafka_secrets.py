"""The secrets compose's Kafka nodes start with (compose/compose.yaml, service `kafka-secrets`).

    python -m manage_scripts.kafka_secrets <secrets-dir> <ca-dir>

Into <secrets-dir>, read by the brokers only: the project-local CA and the brokers' PEM
keystore (the same files and code as the native cluster's, manage_scripts/stack/kafka_cluster.py),
the JAAS file of the SASL PLAIN listeners with one user per service, the operator and Kafka UI,
and the client settings of the nodes' health check (mutual TLS as the brokers' own principal).
Into <ca-dir>, read by every client: the CA certificate.

The passwords come from the environment (`KAFKA_SASL_PASSWORD` for the operator,
`<WHO>_KAFKA_SASL_PASSWORD` for the others; user names likewise, with defaults). The CA and
the brokers' certificate are made once; the users are written on every run, so a password
changed in the environment takes effect when the nodes restart.
"""

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from manage_scripts.stack import StackError
from manage_scripts.stack.kafka_cluster import DEFAULT_USERS, OPERATOR, tls_ensure

# apache/kafka runs as appuser (uid 1000): it must read the keystore and the JAAS file.
KAFKA_UID = 1000
JAAS = "kafka_server_jaas.conf"
HEALTHCHECK_PROPERTIES = "healthcheck.properties"
# Kafka UI reads through its own user, which may only describe and read.
COMPOSE_USERS = {**DEFAULT_USERS, "kafka_ui": "kafka-ui"}


def users_of(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each SASL user's name and password; every password must be set."""
    users = {}
    for who, default_name in COMPOSE_USERS.items():
        prefix = "KAFKA_SASL_" if who == OPERATOR else f"{who.upper()}_KAFKA_SASL_"
        password = env.get(f"{prefix}PASSWORD")
        if not password:
            raise StackError(f"set {prefix}PASSWORD")
        users[who] = (env.get(f"{prefix}USERNAME") or default_name, password)
    return users


def jaas_text(users: dict[str, tuple[str, str]]) -> str:
    """The brokers' KafkaServer section: the PLAIN users they accept."""
    accepted = "".join(f'\n  user_{name}="{password}"' for name, password in users.values())
    return (
        "KafkaServer {\n  org.apache.kafka.common.security.plain.PlainLoginModule required"
        f"{accepted};\n}};\n"
    )


def healthcheck_properties(secrets_dir: Path) -> str:
    return "".join(
        f"{line}\n"
        for line in (
            "security.protocol=SSL",
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={secrets_dir / 'broker.pem'}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={secrets_dir / 'ca.crt'}",
        )
    )


def secrets_write(secrets_dir: Path, ca_dir: Path, env: Mapping[str, str]) -> None:
    users = users_of(env)
    tls_ensure(secrets_dir)
    (secrets_dir / JAAS).write_text(jaas_text(users))
    (secrets_dir / HEALTHCHECK_PROPERTIES).write_text(healthcheck_properties(secrets_dir))
    ca_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(secrets_dir / "ca.crt", ca_dir / "ca.crt")
    (ca_dir / "ca.crt").chmod(0o644)
    for path in [secrets_dir, *secrets_dir.iterdir()]:
        path.chmod(0o700 if path.is_dir() else 0o600)
        if os.geteuid() == 0:
            os.chown(path, KAFKA_UID, KAFKA_UID)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(
            "usage: python -m manage_scripts.kafka_secrets <secrets-dir> <ca-dir>", file=sys.stderr
        )
        return 2
    try:
        secrets_write(Path(argv[0]), Path(argv[1]), os.environ)
    except (StackError, OSError) as exc:
        print(f"kafka_secrets: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"kafka_secrets: {' '.join(exc.cmd[:2])} failed: {exc.stderr!r}", file=sys.stderr)
        return 1
    print(f"Kafka secrets in {argv[0]}, the CA certificate in {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
