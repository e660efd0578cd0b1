"""Fixtures of the hake-client suite. It runs against a live server named by
``HAKE_SERVER`` (tests/api/python_package.rs starts one on port 0 and runs this suite);
``HAKE_BIN`` is the hake binary, for ``hake id``."""

import os
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

import hake_client
from hake_client import Client, Key


def pytest_configure(config: Any) -> None:
    missing = [v for v in ("HAKE_SERVER", "HAKE_BIN") if not os.environ.get(v)]
    if missing:
        raise pytest.UsageError(
            f"{', '.join(missing)} not set: this suite runs against a live server "
            "(cargo test --test api python_package::)"
        )


@pytest.fixture
def server() -> str:
    return os.environ["HAKE_SERVER"]


@pytest.fixture
def hake_bin() -> str:
    return os.environ["HAKE_BIN"]


@pytest.fixture
def client(server: str, tmp_path: Path) -> Iterator[Client]:
    """A client with its own fresh Ed25519 key."""
    key = tmp_path / "key.pem"
    Key.generate().save(key)
    with Client(server, key=str(key)) as c:
        yield c


@pytest.fixture
def other(server: str) -> Iterator[Client]:
    """Another client, with another key."""
    with Client(server, key=Key.generate()) as c:
        yield c


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No HAKE_KEY, a config dir of the test's own, and no default client left over."""
    config = tmp_path / "config"
    monkeypatch.delenv("HAKE_KEY", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    hake_client.set_default_client(None)
    yield config
    hake_client.set_default_client(None)


def hake_id(hake_bin: str, *args: str, env: Dict[str, str]) -> Dict[str, Any]:
    """`hake id --json` with these arguments and environment."""
    import json

    out = subprocess.run(
        [hake_bin, "id", "--json", *args],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def sh(script: str, **extra: Any) -> Dict[str, Any]:
    """An Exec spec running ``sh -c script``."""
    spec: Dict[str, Any] = {
        "Engine": "Exec",
        "Exec": {"Command": ["sh", "-c", script]},
        "Deal": {"Concurrency": 1},
    }
    spec.update(extra)
    return spec


def lines(n: int, pause: str = "0") -> str:
    """A script printing ``line-1`` .. ``line-n``, pausing between lines."""
    return f"i=1; while [ $i -le {n} ]; do echo line-$i; sleep {pause}; i=$((i+1)); done"
