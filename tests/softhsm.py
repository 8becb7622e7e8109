"""A SoftHSM2 token for the PKCS#11 custody tests, and the plugin installed with pip.

``softhsm_token()`` initialises one token per test process in a temporary directory
(``SOFTHSM2_CONF`` points at a config naming it: SoftHSM reads it once, when the library
is first loaded, so the token is shared by every test of the process) and sets the
``NEURALLOG_PKCS11_*`` variables the plugin reads. ``install_pkcs11_plugin()`` builds
``contrib/neurallog_custody_pkcs11`` with pip into a temporary target, like the
third-party test plugin. Where SoftHSM2 is missing the tests are skipped with the reason,
except in CI (``CI`` or ``NEURALLOG_REQUIRE_SOFTHSM`` set), where a missing SoftHSM2 is a
failure: ``.ci/run`` installs it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from thirdparty import _activate, pip_install

REPO = Path(__file__).resolve().parents[1]
PKCS11_DIST = REPO / "contrib" / "neurallog_custody_pkcs11"
MODULE_CANDIDATES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
TOKEN_LABEL = "neurallog-test"
USER_PIN = "1234-test"


@dataclass(frozen=True)
class Token:
    module: str
    label: str
    pin: str
    directory: Path


_token: Token | None = None


def _missing(reason: str) -> None:
    if os.environ.get("CI") or os.environ.get("NEURALLOG_REQUIRE_SOFTHSM"):
        pytest.fail(f"{reason}; CI must run the PKCS#11 tests (.ci/run installs softhsm2)")
    pytest.skip(f"{reason} (apt-get install softhsm2, or run .ci/run as root)")


def softhsm_token() -> Token:
    """The process's SoftHSM2 token, created on first use; environment set for the plugin."""
    global _token
    if _token is None:
        util = shutil.which("softhsm2-util")
        module = next((m for m in MODULE_CANDIDATES if os.path.exists(m)), None)
        if util is None or module is None:
            _missing("SoftHSM2 (softhsm2-util and libsofthsm2.so) is not installed")
        assert util is not None and module is not None
        directory = Path(tempfile.mkdtemp(prefix="neurallog-softhsm-"))
        atexit.register(shutil.rmtree, directory, True)
        (directory / "tokens").mkdir()
        conf = directory / "softhsm2.conf"
        conf.write_text(
            f"directories.tokendir = {directory / 'tokens'}\n"
            "objectstore.backend = file\nlog.level = ERROR\n",
            encoding="utf-8",
        )
        os.environ["SOFTHSM2_CONF"] = str(conf)
        subprocess.run(
            [
                util,
                "--init-token",
                "--free",
                "--label",
                TOKEN_LABEL,
                "--pin",
                USER_PIN,
                "--so-pin",
                "5678-test",
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        _token = Token(module, TOKEN_LABEL, USER_PIN, directory)
    os.environ["SOFTHSM2_CONF"] = str(_token.directory / "softhsm2.conf")
    os.environ["NEURALLOG_PKCS11_MODULE"] = _token.module
    os.environ["NEURALLOG_PKCS11_TOKEN"] = _token.label
    os.environ["NEURALLOG_PKCS11_PIN"] = _token.pin
    return _token


def install_pkcs11_plugin() -> Path:
    """Install ``neurallog-custody-pkcs11`` for the rest of this process (pip, no venv change)."""
    target = pip_install(PKCS11_DIST)
    _activate(target)
    return target
