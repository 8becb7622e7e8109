"""Install the test-only third-party plugin distributions for real, with pip.

``install_thirdparty_plugin()`` builds ``tests/plugins/thirdparty_dist`` (distribution
``neurallog-testplugin`` 1.2.3, entry point ``testplugin`` in group ``neurallog``) with
``pip install --no-deps --no-build-isolation --no-index --target <temp dir>``, puts the
target directory on ``sys.path`` and resets the plugin manager, so the next
``get_kdf``/``get_cipher`` finds it through ``importlib.metadata`` exactly as it would find
a plugin installed into the virtualenv. The venv itself is never modified, so nothing
needs uninstalling and parallel test runs cannot interfere. It takes a few seconds once per
process; later calls are free.

Use it from any test (``tests/`` is on ``sys.path`` because of ``tests/conftest.py``)::

    from thirdparty import install_thirdparty_plugin

    install_thirdparty_plugin()
    get_kdf("hkdf-sha512-test"); get_cipher("aes-256-gcm-test")
"""

from __future__ import annotations

import atexit
import importlib
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from neurallog.plugins import reset_plugins

HERE = Path(__file__).resolve().parent / "plugins"
THIRDPARTY_DIST = HERE / "thirdparty_dist"
BROKEN_DIST = HERE / "broken_dist"
THIRDPARTY_NAME = "neurallog-testplugin"
THIRDPARTY_VERSION = "1.2.3"
THIRDPARTY_KDF = "hkdf-sha512-test"
THIRDPARTY_CIPHER = "aes-256-gcm-test"

_targets: dict[Path, Path] = {}


def pip_install(source: Path) -> Path:
    """Build and install ``source`` into a fresh temporary directory; return that directory.

    The source is copied first so the build leaves no ``build/`` or ``*.egg-info`` in the
    repository.
    """
    if source in _targets:
        return _targets[source]
    workdir = Path(tempfile.mkdtemp(prefix="neurallog-plugin-"))
    atexit.register(shutil.rmtree, workdir, True)
    copy, target = workdir / "src", workdir / "site"
    shutil.copytree(source, copy)
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "--disable-pip-version-check",
        "--target",
        str(target),
        str(copy),
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip install of {source.name} failed:\n{result.stdout}{result.stderr}")
    _targets[source] = target
    return target


def _activate(target: Path) -> None:
    if str(target) not in sys.path:
        sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    reset_plugins()


def install_thirdparty_plugin() -> Path:
    """Install ``neurallog-testplugin`` for the rest of this process; return its directory."""
    target = pip_install(THIRDPARTY_DIST)
    _activate(target)
    return target


@contextmanager
def broken_plugin_installed() -> Iterator[Path]:
    """``neurallog-brokenplugin`` (its KDF hook raises) is installed only inside the block."""
    target = pip_install(BROKEN_DIST)
    _activate(target)
    try:
        yield target
    finally:
        sys.path.remove(str(target))
        sys.modules.pop("neurallog_brokenplugin", None)
        importlib.invalidate_caches()
        reset_plugins()
