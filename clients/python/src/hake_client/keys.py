"""Client keys and signed envelopes, as the ``hake`` CLI makes them (``src/auth/keys.rs``).

A key is an Ed25519 key in PKCS#8 PEM (what ``hake id`` writes) or an RSA key in PKCS#1
PEM (Bacalhau's ``user_id.pem``; PKCS#8 RSA is read too). The envelope is
``{"client_public_key", "signature", "payload"}`` where ``payload`` is the exact JSON text
that was signed: the bytes sent are the bytes signed.
"""

import base64
import hashlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

__all__ = ["Key", "KeySource", "default_key_path"]

PrivateKey = Union[ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey]
KeySource = Union[str, bytes, "os.PathLike[str]", "Key", ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey]


# PKCS#8 of an Ed25519 key (RFC 8410), from the version to the seed's OCTET STRING header.
_ED25519_HEAD = bytes.fromhex("020100300506032b657004220420")
_ED25519_HEAD_V2 = bytes.fromhex("020101300506032b657004220420")


def _ed25519_pkcs8_v2(pem: bytes) -> Optional[ed25519.Ed25519PrivateKey]:
    """Reads the PKCS#8 v2 Ed25519 PEM (``OneAsymmetricKey`` with the public key after the
    seed) that ``hake id`` writes and ``cryptography`` refuses ("extra data"). The public
    key it carries must be the seed's."""
    text = pem.decode("ascii", "replace")
    begin, end = "-----BEGIN PRIVATE KEY-----", "-----END PRIVATE KEY-----"
    if begin not in text or end not in text:
        return None
    try:
        der = base64.b64decode("".join(text.split(begin, 1)[1].split(end, 1)[0].split()), validate=True)
    except ValueError:
        return None
    # SEQUENCE (short length) | version, algorithm, seed | [1] public key BIT STRING
    if len(der) < 2 or der[0] != 0x30 or der[1] != len(der) - 2:
        return None
    body = der[2:]
    if not body.startswith((_ED25519_HEAD, _ED25519_HEAD_V2)) or len(body) < len(_ED25519_HEAD) + 32:
        return None
    seed = body[len(_ED25519_HEAD) : len(_ED25519_HEAD) + 32]
    rest = body[len(_ED25519_HEAD) + 32 :]
    key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if rest not in (b"", b"\x81\x21\x00" + public, b"\xa1\x23\x03\x21\x00" + public):
        return None
    return key


def default_key_path() -> Path:
    """Where ``hake id`` keeps the key: ``$HAKE_KEY``, else ``<config dir>/hake/key.pem``
    with the config dir of Rust's ``dirs`` crate (``$XDG_CONFIG_HOME`` or ``~/.config`` on
    Linux, ``~/Library/Application Support`` on macOS, ``%APPDATA%`` on Windows)."""
    env = os.environ.get("HAKE_KEY")
    if env:
        return Path(env)
    if sys.platform == "darwin":
        config = Path.home() / "Library" / "Application Support"
    elif os.name == "nt":
        config = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME", "")
        config = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".config"
    return config / "hake" / "key.pem"


class Key:
    """A private key that signs payloads, with its ``client_public_key`` and ClientID."""

    def __init__(self, private_key: PrivateKey) -> None:
        if isinstance(private_key, ed25519.Ed25519PrivateKey):
            raw = private_key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
            self.scheme = "ed25519"
            self.client_id = hashlib.sha256(raw).hexdigest()
            public = raw
        elif isinstance(private_key, rsa.RSAPrivateKey):
            n = private_key.public_key().public_numbers().n
            self.scheme = "rsa"
            self.client_id = hashlib.sha256(n.to_bytes((n.bit_length() + 7) // 8, "big")).hexdigest()
            public = private_key.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.PKCS1
            )
        else:
            raise TypeError(f"not an Ed25519 or RSA private key: {type(private_key).__name__}")
        self._private = private_key
        #: base64 of the raw Ed25519 key, or of the DER PKCS#1 RSA public key.
        self.public_key_b64 = base64.b64encode(public).decode("ascii")

    def __repr__(self) -> str:
        return f"Key(scheme={self.scheme!r}, client_id={self.client_id!r})"

    @classmethod
    def generate(cls) -> "Key":
        """A fresh Ed25519 key (hake's default)."""
        return cls(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: Union[str, bytes]) -> "Key":
        """Reads a PEM private key: PKCS#8 Ed25519, PKCS#1 or PKCS#8 RSA."""
        data = pem.encode() if isinstance(pem, str) else pem
        try:
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as e:
            ed = _ed25519_pkcs8_v2(data)
            if ed is None:
                raise ValueError(f"not a PEM Ed25519 or RSA private key: {e}") from None
            private = ed
        if not isinstance(private, (ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
            raise ValueError(f"a {type(private).__name__} cannot sign for hake: use Ed25519 or RSA")
        return cls(private)

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"]) -> "Key":
        """Reads a PEM key file."""
        try:
            return cls.from_pem(Path(path).read_bytes())
        except ValueError as e:
            raise ValueError(f"{path}: {e}") from None

    @classmethod
    def load_or_create(cls, path: Union[str, "os.PathLike[str]"]) -> "Key":
        """Reads the key at ``path``, creating an Ed25519 key there (mode 0600) when there
        is none, as the CLI does on first use."""
        path = Path(path)
        if path.exists():
            return cls.load(path)
        key = cls.generate()
        key.save(path)
        return key

    @classmethod
    def coerce(cls, source: Optional[KeySource]) -> "Key":
        """A key from a :class:`Key`, a cryptography private key, PEM text or bytes, or a
        file path; ``None`` is the default key (:func:`default_key_path`, created on
        first use)."""
        if source is None:
            return cls.load_or_create(default_key_path())
        if isinstance(source, Key):
            return source
        if isinstance(source, (ed25519.Ed25519PrivateKey, rsa.RSAPrivateKey)):
            return cls(source)
        if isinstance(source, bytes) or (isinstance(source, str) and "-----BEGIN" in source):
            return cls.from_pem(source)
        return cls.load(os.path.expanduser(source))

    def to_pem(self) -> bytes:
        """PEM as the CLI writes it: PKCS#8 for Ed25519, PKCS#1 for RSA."""
        fmt = (
            serialization.PrivateFormat.PKCS8
            if self.scheme == "ed25519"
            else serialization.PrivateFormat.TraditionalOpenSSL
        )
        return self._private.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Writes the key as PEM with mode 0600, creating parent directories."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.to_pem())
        os.chmod(path, 0o600)

    def sign(self, message: bytes) -> str:
        """Signs ``message``: Ed25519, or RSASSA-PKCS1-v1_5 with SHA-256; standard base64."""
        if isinstance(self._private, ed25519.Ed25519PrivateKey):
            sig = self._private.sign(message)
        else:
            sig = self._private.sign(message, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(sig).decode("ascii")

    def payload(self, fields: Mapping[str, Any]) -> str:
        """The JSON text of a fresh payload: ``ClientID``, the given fields, and
        ``Timestamp`` (unix ms) and a random ``Nonce``."""
        body: Dict[str, Any] = {"ClientID": self.client_id}
        body.update(fields)
        body["Timestamp"] = int(time.time() * 1000)
        body["Nonce"] = str(uuid.uuid4())
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False)

    def envelope(self, payload: str) -> bytes:
        """The request body around ``payload`` (JSON text), which is embedded verbatim:
        the signature covers exactly the bytes sent."""
        head = json.dumps(
            {"client_public_key": self.public_key_b64, "signature": self.sign(payload.encode("utf-8"))},
            separators=(",", ":"),
        )
        return (head[:-1] + ',"payload":' + payload + "}").encode("utf-8")
