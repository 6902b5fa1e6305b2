"""The local Kafka cluster's shape, and everything a node needs before it starts.

Three variables choose the shape (docs/production-kafka.md):

    KAFKA_BROKERS         1 (default) or 3 combined broker+controller nodes, static voters
    KAFKA_SECURITY        PLAINTEXT (default) or SASL_SSL
    KAFKA_SASL_MECHANISM  SCRAM-SHA-512 (default) or PLAIN

With SASL_SSL the clients' listener takes SASL over TLS and the brokers and controllers
talk over mutual TLS; a project-local CA signs one broker certificate on first start, and
StandardAuthorizer refuses whatever no ACL allows. Each service has its own user and
the operator a third (`KAFKA_SASL_USERNAME` / `KAFKA_SASL_PASSWORD`, `ORDER_KAFKA_SASL_*`,
`INVENTORY_KAFKA_SASL_*`), the storefront a fourth (`STOREFRONT_KAFKA_SASL_*`); a password
not set is generated once and kept beside the cluster's data.
"""

import base64
import dataclasses
import json
import secrets
import subprocess
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path

from manage_scripts.stack import StackError, log
from manage_scripts.stack.probes import host_port

KAFKA_DIR = Path(__file__).resolve().parents[1] / "kafka"
SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-512", "PLAIN")
# The brokers' certificate names every address a client may use: loopback and compose's hosts.
BROKER_HOSTS = ("localhost", "kafka-1", "kafka-2", "kafka-3", "kafka")
BROKER_PRINCIPAL = "kafka-broker"  # the CN of the brokers' certificate, a super user
OPERATOR = "operator"
STOREFRONT = "storefront"
DEFAULT_USERS = {
    OPERATOR: "saga-admin",
    "order": "order-service",
    "inventory": "inventory-service",
    STOREFRONT: "storefront",
}


@dataclasses.dataclass(frozen=True)
class KafkaShape:
    brokers: int
    security: str
    mechanism: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "KafkaShape":
        brokers = env.get("KAFKA_BROKERS") or "1"
        security = (env.get("KAFKA_SECURITY") or "PLAINTEXT").upper()
        mechanism = (env.get("KAFKA_SASL_MECHANISM") or "SCRAM-SHA-512").upper()
        if brokers not in ("1", "3"):
            raise StackError(f"KAFKA_BROKERS must be 1 or 3, not {brokers!r}")
        if security not in SECURITY_PROTOCOLS:
            raise StackError(f"KAFKA_SECURITY must be one of {', '.join(SECURITY_PROTOCOLS)}")
        if mechanism not in SASL_MECHANISMS:
            raise StackError(f"KAFKA_SASL_MECHANISM must be one of {', '.join(SASL_MECHANISMS)}")
        return cls(brokers=int(brokers), security=security, mechanism=mechanism)

    @property
    def secured(self) -> bool:
        return self.security == "SASL_SSL"

    @property
    def replication_factor(self) -> int:
        return self.brokers

    @property
    def min_insync_replicas(self) -> int:
        return min(2, self.brokers)

    @property
    def name(self) -> str:
        """The folder of this shape's cluster: switching shapes never reuses another's data."""
        if self.brokers == 1 and not self.secured:
            return "kafka"
        suffix = f"-{self.mechanism.lower()}" if self.secured else ""
        return f"kafka-{self.brokers}n-{self.security.lower()}{suffix}"


def default_bootstrap(shape: KafkaShape) -> str:
    if shape.brokers == 1:
        return "localhost:9092"
    # Not 9092-9094: a one-node cluster left running on 9092 must not pass for this one.
    return "localhost:9192,localhost:9193,localhost:9194"


@dataclasses.dataclass(frozen=True)
class KafkaNode:
    node_id: int
    client_port: int
    controller_port: int
    internal_port: int  # brokers' replication over mutual TLS (SASL_SSL clusters only)
    base: Path

    @property
    def name(self) -> str:
        return f"kafka-{self.node_id}"

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def properties(self) -> Path:
        return self.base / "server.properties"


@dataclasses.dataclass(frozen=True)
class Credentials:
    users: dict[str, tuple[str, str]]  # OPERATOR or a service -> (username, password)

    def of(self, who: str) -> tuple[str, str]:
        return self.users[who]


@dataclasses.dataclass(frozen=True)
class KafkaCluster:
    """A local cluster of `shape` under `base`, its clients' listeners at `bootstrap`."""

    shape: KafkaShape
    bootstrap: str
    base: Path

    @property
    def tls(self) -> Path:
        return self.base / "tls"

    @property
    def ca_certificate(self) -> Path:
        return self.tls / "ca.crt"

    @property
    def nodes(self) -> list[KafkaNode]:
        ports = [host_port(address, 9092)[1] for address in self.bootstrap.split(",")]
        if len(ports) != self.shape.brokers:
            raise StackError(
                f"KAFKA_BOOTSTRAP_SERVERS names {len(ports)} address(es) for "
                f"KAFKA_BROKERS={self.shape.brokers}"
            )
        single = self.shape.brokers == 1
        return [
            KafkaNode(
                node_id=n,
                client_port=port,
                # One node keeps its historical port+1; three need room for three.
                controller_port=port + 1 if single else port + 100,
                internal_port=port + 200,
                base=self.base if single else self.base / f"node-{n}",
            )
            for n, port in enumerate(ports, start=1)
        ]

    def credentials(self, env: Mapping[str, str]) -> Credentials:
        """Each user's name and password: from the environment, else kept from first start."""
        stored_file = self.base / "credentials.json"
        stored = json.loads(stored_file.read_text()) if stored_file.exists() else {}
        users = {}
        for who, default_name in DEFAULT_USERS.items():
            prefix = "KAFKA_SASL_" if who == OPERATOR else f"{who.upper()}_KAFKA_SASL_"
            name = env.get(f"{prefix}USERNAME") or default_name
            password = env.get(f"{prefix}PASSWORD") or stored.get(who, [None, None])[1]
            users[who] = (name, password or secrets.token_urlsafe(18))
        if self.shape.secured and users != {who: tuple(pair) for who, pair in stored.items()}:
            self.base.mkdir(parents=True, exist_ok=True)
            stored_file.write_text(json.dumps(users))
            stored_file.chmod(0o600)
        return Credentials(users)

    def client_env(self, credentials: Credentials, who: str) -> dict[str, str]:
        """The KAFKA_* variables of a client of this cluster acting as `who`."""
        env = {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "KAFKA_SECURITY_PROTOCOL": self.shape.security,
            "KAFKA_TOPIC_REPLICATION_FACTOR": str(self.shape.replication_factor),
        }
        if self.shape.secured:
            username, password = credentials.of(who)
            env |= {
                "KAFKA_SASL_MECHANISM": self.shape.mechanism,
                "KAFKA_SASL_USERNAME": username,
                "KAFKA_SASL_PASSWORD": password,
                "KAFKA_SSL_CA_LOCATION": str(self.ca_certificate),
            }
        return env


def cluster_of(env: Mapping[str, str], data_dir: Path) -> KafkaCluster:
    shape = KafkaShape.from_env(env)
    return KafkaCluster(
        shape=shape,
        bootstrap=env.get("KAFKA_BOOTSTRAP_SERVERS") or default_bootstrap(shape),
        base=data_dir / shape.name,
    )


# --- files made on first start --------------------------------------------------------


def tls_ensure(folder: Path) -> None:
    """A CA and one broker key and certificate it signed, made once with openssl."""
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    broker_pem = folder / "broker.pem"
    if broker_pem.exists():
        return
    log(f"creating a project-local CA and the brokers' certificate in {folder}")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    certificate_authority_create(ca_key, ca_crt, "saga local Kafka CA")
    key, crt = folder / "broker.key", folder / "broker.crt"
    certificate_sign(ca_key, ca_crt, key, crt, common_name=BROKER_PRINCIPAL, hosts=BROKER_HOSTS)
    # Kafka's PEM keystore: the private key, then the certificate chain.
    broker_pem.write_text(key.read_text() + crt.read_text())
    broker_pem.chmod(0o600)


def certificate_authority_create(key: Path, crt: Path, common_name: str) -> None:
    _openssl(
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(crt),
        "-days", "3650", "-subj", f"/CN={common_name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip


def certificate_sign(
    ca_key: Path, ca_crt: Path, key: Path, crt: Path, *, common_name: str, hosts: tuple[str, ...]
) -> None:
    """A new key and a certificate for `hosts` (and 127.0.0.1), signed by the CA."""
    _openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key))
    key.chmod(0o600)
    names = ",".join([*(f"DNS:{h}" for h in hosts), "IP:127.0.0.1"])
    with tempfile.TemporaryDirectory() as tmp:
        csr, ext = Path(tmp) / "req.csr", Path(tmp) / "ext.cnf"
        ext.write_text(
            f"subjectAltName={names}\nextendedKeyUsage=serverAuth,clientAuth\n"
            "basicConstraints=CA:FALSE\n"
        )
        _openssl("req", "-new", "-key", str(key), "-subj", f"/CN={common_name}", "-out", str(csr))
        _openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
            "-CAcreateserial", "-days", "825", "-extfile", str(ext), "-out", str(crt),
        )  # fmt: skip


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def node_properties(cluster: KafkaCluster, node: KafkaNode, credentials: Credentials) -> str:
    """server.properties of one node: the shared defaults, then its listeners and replication."""
    shape = cluster.shape
    voters = ",".join(f"{n.node_id}@127.0.0.1:{n.controller_port}" for n in cluster.nodes)
    rf, isr = shape.replication_factor, shape.min_insync_replicas
    lines = [
        "process.roles=broker,controller",
        f"node.id={node.node_id}",
        f"controller.quorum.voters={voters}",
        "controller.listener.names=CONTROLLER",
        f"log.dirs={node.data}",
        f"default.replication.factor={rf}",
        f"min.insync.replicas={isr}",
        f"offsets.topic.replication.factor={rf}",
        f"transaction.state.log.replication.factor={rf}",
        f"transaction.state.log.min.isr={isr}",
        f"share.coordinator.state.topic.replication.factor={rf}",
        f"share.coordinator.state.topic.min.isr={isr}",
        "unclean.leader.election.enable=false",
    ]
    if not shape.secured:
        lines += [
            f"listeners=PLAINTEXT://127.0.0.1:{node.client_port},"
            f"CONTROLLER://127.0.0.1:{node.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{node.client_port}",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
        ]
    else:
        lines += secured_listener_properties(cluster, node, credentials)
    shared = (KAFKA_DIR / "server.properties").read_text()
    return (
        shared
        + "\n# This node (written by manage_scripts.stack on every start)\n"
        + ("\n".join(lines) + "\n")
    )


def secured_listener_properties(
    cluster: KafkaCluster, node: KafkaNode, credentials: Credentials
) -> list[str]:
    mechanism = cluster.shape.mechanism
    operator, _ = credentials.of(OPERATOR)
    if mechanism == "PLAIN":
        pairs = credentials.users.values()
        users = " ".join(f'user_{name}="{password}"' for name, password in pairs)
        jaas = f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};"
    else:
        jaas = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
    return [
        f"listeners=CLIENT://127.0.0.1:{node.client_port},"
        f"INTERNAL://127.0.0.1:{node.internal_port},"
        f"CONTROLLER://127.0.0.1:{node.controller_port}",
        f"advertised.listeners=CLIENT://127.0.0.1:{node.client_port},"
        f"INTERNAL://127.0.0.1:{node.internal_port}",
        "listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL",
        "inter.broker.listener.name=INTERNAL",
        "ssl.keystore.type=PEM",
        f"ssl.keystore.location={cluster.tls / 'broker.pem'}",
        "ssl.truststore.type=PEM",
        f"ssl.truststore.location={cluster.ca_certificate}",
        "ssl.endpoint.identification.algorithm=https",
        # Brokers and controllers prove who they are with the CA's certificate; clients
        # may too (mutual TLS), and must log in with SASL either way.
        "listener.name.internal.ssl.client.auth=required",
        "listener.name.controller.ssl.client.auth=required",
        "listener.name.client.ssl.client.auth=requested",
        "ssl.principal.mapping.rules=RULE:^CN=([^,]+).*$/$1/,DEFAULT",
        f"sasl.enabled.mechanisms={mechanism}",
        f"listener.name.client.{mechanism.lower()}.sasl.jaas.config={jaas}",
        "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "allow.everyone.if.no.acl.found=false",
        f"super.users=User:{BROKER_PRINCIPAL};User:{operator}",
    ]


def storage_format(
    java: list[str], cluster: KafkaCluster, node: KafkaNode, credentials: Credentials
) -> None:
    """Format a node's storage once; SCRAM users go into the first metadata records."""
    if (node.data / "meta.properties").exists():
        return
    id_file = cluster.base / "cluster-id"
    if not id_file.exists():
        cluster.base.mkdir(parents=True, exist_ok=True)
        id_file.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))
    scram = []
    if cluster.shape.secured and cluster.shape.mechanism.startswith("SCRAM"):
        for name, password in credentials.users.values():
            scram += ["--add-scram", f"{cluster.shape.mechanism}=[name={name},password={password}]"]
    log(f"formatting Kafka storage in {node.data}")
    subprocess.run(
        [
            *java,
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={id_file.read_text().strip()}",
            "-c",
            str(node.properties),
            *scram,
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def admin_properties(cluster: KafkaCluster, credentials: Credentials, folder: Path) -> Path:
    """The operator's `--command-config` for Kafka's own CLI tools, with the CA beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        f"bootstrap.servers={cluster.bootstrap}",
        f"security.protocol={cluster.shape.security}",
    ]
    if cluster.shape.secured:
        ca = folder / "ca.crt"
        ca.write_bytes(cluster.ca_certificate.read_bytes())
        name, password = credentials.of(OPERATOR)
        module = (
            "org.apache.kafka.common.security.plain.PlainLoginModule"
            if cluster.shape.mechanism == "PLAIN"
            else "org.apache.kafka.common.security.scram.ScramLoginModule"
        )
        lines += [
            f"sasl.mechanism={cluster.shape.mechanism}",
            f'sasl.jaas.config={module} required username="{name}" password="{password}";',
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={ca}",
            "ssl.endpoint.identification.algorithm=https",
        ]
    path = folder / "admin.properties"
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path
