"""The RSA key pair access tokens are signed (private) and checked (public) with.

No Django here: the launcher writes a development pair with it before any service starts.
"""

import contextlib
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PRIVATE_KEY_FILE = "jwt-private.pem"
PUBLIC_KEY_FILE = "jwt-public.pem"


class KeyPairFiles(NamedTuple):
    private: Path
    public: Path


def public_key_of(private_pem: str) -> str:
    """The PEM public key that checks what `private_pem` signs."""
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def key_pair_generate() -> str:
    """A new 2048-bit RSA private key, PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def key_pair_files_ensure(directory: Path) -> KeyPairFiles:
    """The development key pair in `directory`, written on first use.

    Each file is written whole, then linked into place only if absent, so processes starting
    together all read the one complete pair the first of them wrote.
    """
    files = KeyPairFiles(directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE)
    if files.private.exists() and files.public.exists():
        return files
    directory.mkdir(parents=True, exist_ok=True)
    if not files.private.exists():
        _write_new(files.private, key_pair_generate(), mode=0o600)
    _write_new(files.public, public_key_of(files.private.read_text()), mode=0o644)
    return files


def _write_new(path: Path, text: str, *, mode: int) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(temporary, mode)
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
