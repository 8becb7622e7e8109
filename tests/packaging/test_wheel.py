"""The distribution as users get it: ``python -m build`` makes an sdist and, from it, a wheel.

The wheel must carry the three import packages with their data files (``py.typed``, the TUI's
``.tcss``, any ``.lua`` script) and nothing else, in particular not ``tests/``.
Installed into a fresh virtual environment, its console script and its entry points must work
on their own, not through the editable install of the checkout.

The build runs on a copy of the source (so the checkout's ``build/`` and ``*.egg-info`` are
left alone). The fresh venv gets the wheel with ``--no-deps``; its dependencies come from the
running interpreter's site-packages through a ``.pth`` line, which adds that directory to
``sys.path`` *after* the venv's own (and, unlike a site dir, does not run its ``.pth`` files,
so the checkout's editable-install hook stays out). No download is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
SOURCE_ENTRIES = (
    "pyproject.toml",
    "README.md",
    "neurallog",
    "neurallog_plugins",
    "neurallog_tui",
    "tests",
)
IGNORED = shutil.ignore_patterns(
    "__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".pytest_cache", ".hypothesis"
)
BUILTIN_KDFS = {"argon2id", "pbkdf2-sha256", "scrypt", "bip39", "neurallog-legacy"}
BUILTIN_CIPHERS = {"aes-256-gcm", "chacha20-poly1305", "aes-256-gcm-siv"}


def _run(
    args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, capture_output=True, text=True, timeout=540, env=env, cwd=cwd)
    assert result.returncode == 0, f"{args} failed ({result.returncode}):\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(sdist, wheel) built by ``python -m build`` from a copy of the source tree."""
    pytest.importorskip("build", reason="`build` is in the dev extra: pip install -e '.[dev]'")
    root = tmp_path_factory.mktemp("packaging")
    src = root / "src"
    src.mkdir()
    for entry in SOURCE_ENTRIES:
        path = REPO / entry
        if path.is_dir():
            shutil.copytree(path, src / entry, ignore=IGNORED)
        else:
            shutil.copy2(path, src / entry)
    out = root / "dist"
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(src)])
    sdists = sorted(out.glob("neurallog-*.tar.gz"))
    wheels = sorted(out.glob("neurallog-*-py3-none-any.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, sorted(p.name for p in out.iterdir())
    return sdists[0], wheels[0]


def _expected_data_files() -> set[str]:
    """Every py.typed, .tcss and .lua file of the three packages, as wheel paths."""
    found: set[str] = set()
    for import_name in ("neurallog", "neurallog_plugins", "neurallog_tui"):
        base = REPO / import_name
        for pattern in ("py.typed", "*.tcss", "*.lua"):
            for path in base.rglob(pattern):
                found.add(f"{import_name}/{path.relative_to(base).as_posix()}")
    return found


def test_wheel_holds_the_three_packages_with_data_and_no_tests(built: tuple[Path, Path]) -> None:
    _, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        entry_text = archive.read(entry_points).decode()
    tops = {name.split("/", 1)[0] for name in names}
    dist_info = {top for top in tops if top.endswith(".dist-info")}
    assert tops - dist_info == {"neurallog", "neurallog_plugins", "neurallog_tui"}
    assert not any(name.startswith("tests/") or "/tests/" in name for name in names)
    data = _expected_data_files()
    assert {"neurallog/py.typed", "neurallog_plugins/py.typed", "neurallog_tui/py.typed"} <= data
    assert any(name.endswith(".tcss") for name in data)
    # the storage layer's Lua scripts are package data, loaded with importlib.resources
    lua = {name for name in data if name.startswith("neurallog/storage/lua/")}
    assert "neurallog/storage/lua/authenticate.lua" in lua
    assert "neurallog/storage/lua/audit_chain.lua" in lua
    assert len(lua) >= 20
    missing = data - names
    assert not missing, f"data files missing from the wheel: {sorted(missing)}"
    assert "neurallog = neurallog.cli:main" in entry_text
    assert "builtin_kdfs = neurallog_plugins.kdfs" in entry_text
    assert "builtin_ciphers = neurallog_plugins.ciphers" in entry_text


def test_sdist_can_rebuild_everything(built: tuple[Path, Path]) -> None:
    """The wheel was built from the sdist; it must also carry the data files."""
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md"} <= names
    for wheel_path in _expected_data_files():
        assert wheel_path in names  # folder names are import names


def _fresh_venv(root: Path, wheel: Path) -> Path:
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    site = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
        ).stdout.strip()
    )
    (site / "zz_host_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)])
    return venv


PROBE = """
import json, neurallog, neurallog_plugins, neurallog_tui
from importlib.resources import files
from neurallog.plugins import list_ciphers, list_kdfs
print(json.dumps({
    "files": [m.__file__ for m in (neurallog, neurallog_plugins, neurallog_tui)],
    "tcss": sorted(p.name for p in files("neurallog_tui").iterdir() if p.name.endswith(".tcss")),
    "kdfs": {i.name: i.origin for i in list_kdfs()},
    "ciphers": {i.name: i.origin for i in list_ciphers()},
}))
"""


def test_installed_wheel_runs_its_cli_and_loads_builtin_plugins(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    _, wheel = built
    venv = _fresh_venv(tmp_path, wheel)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "NEURALLOG_"))}
    helped = _run([str(venv / "bin" / "neurallog"), "--help"], env=env, cwd=tmp_path)
    for command in ("serve", "tenant", "audit", "version"):
        assert command in helped.stdout
    probe = _run([str(venv / "bin" / "python"), "-c", PROBE], env=env, cwd=tmp_path)
    report = json.loads(probe.stdout)
    for module_file in report["files"]:
        assert Path(module_file).is_relative_to(venv), (
            f"imported from outside the venv: {module_file}"
        )
    assert report["tcss"], "the TUI stylesheet is not installed"
    assert set(report["kdfs"]) >= BUILTIN_KDFS
    assert set(report["ciphers"]) >= BUILTIN_CIPHERS
    assert {report["kdfs"][n] for n in BUILTIN_KDFS} == {"builtin"}
    assert {report["ciphers"][n] for n in BUILTIN_CIPHERS} == {"builtin"}
