"""Keys: the one `hake id` makes, RSA keys as Bacalhau's SDK makes them, the default path,
and envelopes whose signature covers the exact payload bytes sent."""

import base64
import json
import os
import stat
from pathlib import Path

import pytest
from conftest import hake_id, sh
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

import hake_client
from hake_client import Client, HakeError, Key, default_key_path


def write_bacalhau_rsa_key(path: Path) -> None:
    """An RSA key as bacalhau-sdk writes its user_id.pem: 2048 bits, PKCS#1 PEM."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )


def test_the_key_hake_id_makes_is_the_default_key_and_signs_submits(
    isolated_env: Path, hake_bin: str, server: str
) -> None:
    made = hake_id(hake_bin, env={"XDG_CONFIG_HOME": str(isolated_env)})
    assert made["scheme"] == "ed25519"
    assert default_key_path() == isolated_env / "hake" / "key.pem" == Path(made["key_file"])
    with Client(server) as c:
        assert c.client_id == made["client_id"]
        assert c.key.public_key_b64 == made["public_key"]
        job = c.submit(sh("true"))
        mine = [j.job.metadata.id for j in c.list_jobs()]
    assert mine == [job]


def test_hake_key_names_the_key_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, hake_bin: str) -> None:
    path = tmp_path / "k.pem"
    Key.generate().save(path)
    monkeypatch.setenv("HAKE_KEY", str(path))
    assert default_key_path() == path
    assert (
        Client("http://127.0.0.1:9").client_id == hake_id(hake_bin, "--key", str(path), env={})["client_id"]
    )


def test_without_a_key_file_an_ed25519_key_is_created_at_the_default_path_with_mode_0600(
    isolated_env: Path, hake_bin: str
) -> None:
    c = Client("http://127.0.0.1:9")
    path = isolated_env / "hake" / "key.pem"
    assert not path.exists()
    assert c.key.scheme == "ed25519"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # The CLI reads the key the client made, and finds the same ClientID.
    assert hake_id(hake_bin, env={"XDG_CONFIG_HOME": str(isolated_env)})["client_id"] == c.client_id


def test_an_rsa_key_as_bacalhau_makes_it_signs_submits_and_cancels(
    tmp_path: Path, hake_bin: str, server: str
) -> None:
    path = tmp_path / "user_id.pem"
    write_bacalhau_rsa_key(path)
    with Client(server, key=str(path)) as c:
        assert c.key.scheme == "rsa"
        assert c.client_id == hake_id(hake_bin, "--key", str(path), env={})["client_id"]
        job = c.submit(sh("sleep 60"))
        assert str(c.cancel(job)) == "Cancelled"
        listed = next(c.list_jobs())
    assert listed.job.metadata.client_id == c.client_id


def test_keys_come_as_paths_pem_text_bytes_and_cryptography_objects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    key = Key(private)
    path = tmp_path / "k.pem"
    key.save(path)
    pem = path.read_bytes()
    for source in (str(path), path, pem, pem.decode(), private, key):
        assert Key.coerce(source).client_id == key.client_id
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Key.coerce("~/k.pem").client_id == key.client_id
    with pytest.raises(TypeError):
        Key.coerce(ed25519.Ed25519PrivateKey)  # type: ignore[arg-type]


def test_a_file_that_is_no_key_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.pem"
    path.write_text("not a key\n")
    with pytest.raises(ValueError, match="junk.pem"):
        Key.load(path)
    with pytest.raises(FileNotFoundError):
        Key.load(tmp_path / "absent.pem")


def test_the_envelope_carries_the_signed_payload_text_verbatim_with_timestamp_and_nonce() -> None:
    key = Key.generate()
    payload = key.payload({"JobID": "abc", "Reason": "café"})
    envelope = key.envelope(payload)
    assert b'"payload":' + payload.encode() + b"}" in envelope
    body = json.loads(envelope)
    fields = body["payload"]
    assert fields["ClientID"] == key.client_id and fields["Reason"] == "café"
    assert isinstance(fields["Timestamp"], int) and fields["Nonce"]
    assert json.loads(key.payload({}))["Nonce"] != json.loads(key.payload({}))["Nonce"]
    raw = base64.b64decode(body["client_public_key"])
    ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(body["signature"]), payload.encode()
    )


def test_a_key_the_server_does_not_know_cannot_cancel_and_the_error_says_why(
    client: Client, other: Client
) -> None:
    job = client.submit(sh("sleep 60"))
    with pytest.raises(HakeError) as err:
        other.cancel(job)
    assert err.value.status == 403
    assert err.value.code == "not-job-owner"
    assert job in err.value.message
    assert str(client.job_cancel(job)) == "Cancelled"


def test_the_default_client_reads_hake_server_and_hake_key(
    monkeypatch: pytest.MonkeyPatch, isolated_env: Path, tmp_path: Path, server: str
) -> None:
    path = tmp_path / "env.pem"
    Key.generate().save(path)
    monkeypatch.setenv("HAKE_KEY", str(path))
    monkeypatch.setenv("HAKE_SERVER", server)
    c = hake_client.default_client()
    assert c.server == server.rstrip("/")
    assert c.client_id == Key.load(path).client_id
    assert hake_client.default_client() is c
    monkeypatch.delenv("HAKE_SERVER")
    assert Client().server == hake_client.DEFAULT_SERVER == "http://127.0.0.1:1234"
    assert not os.environ.get("HAKE_SERVER")
