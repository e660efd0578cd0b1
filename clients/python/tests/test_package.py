"""The package as installed: typed, with its generated layer, and runnable on Python 3.9
(its floor) although this suite runs on a newer Python."""

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import hake_client

PACKAGE = Path(hake_client.__file__).parent


def test_the_installed_package_is_typed_and_ships_its_generated_layer() -> None:
    files = {str(f) for f in metadata.files("hake-client") or []}
    assert "hake_client/py.typed" in files
    assert "hake_client/_generated/api/requester/submit.py" in files
    assert "hake_client/_generated/models/log_frame.py" in files
    assert metadata.metadata("hake-client")["Requires-Python"] == ">=3.9"
    requires = " ".join(metadata.requires("hake-client") or []).lower()
    for dep in ("httpx", "cryptography", "pyyaml", "attrs", "python-dateutil"):
        assert dep in requires


def test_every_module_of_the_package_runs_on_python_3_9() -> None:
    vermin = Path(sys.executable).with_name("vermin")
    out = subprocess.run(
        [str(vermin), "-t=3.9-", "--violations", "--no-tips", "--eval-annotations", str(PACKAGE)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Minimum required versions: 3.9" in out.stdout or "Minimum required versions: ~" in out.stdout, (
        out.stdout
    )
