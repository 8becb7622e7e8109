"""Helpers for the container test: a Debian stand-in base image, buildah calls, pip settings.

Registries of base images cannot be reached here, so the base (``python:3.11-slim`` in
production) is replaced by a Debian bookworm root filesystem made with ``debootstrap``
(minbase plus ``python3 python3-venv python3-pip``; bookworm's python3 is 3.11). The root
filesystem is cached per day under ``NEURALLOG_CONTAINER_CACHE`` (default: a directory in the
system temp dir), together with a private buildah storage (vfs driver), so the machine's own
container storage is never touched and a second run skips debootstrap.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEBIAN_MIRROR = "http://deb.debian.org/debian"
BASE_PACKAGES = "python3,python3-venv,python3-pip"
BASE_REPOSITORY = "localhost/neurallog-test-base"
PIP_KEYS = ("index-url", "extra-index-url", "trusted-host", "timeout", "default-timeout")


def missing_tools() -> str | None:
    """Why this machine cannot run the container test, or None when it can."""
    if sys.platform != "linux":
        return "container test needs Linux"
    if os.geteuid() != 0:
        return "container test needs root (buildah --isolation chroot, debootstrap)"
    for tool in ("buildah", "debootstrap"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y buildah debootstrap)"
    return None


def cache_root() -> Path:
    """Where the day's root filesystem and the private buildah storage live."""
    configured = os.environ.get("NEURALLOG_CONTAINER_CACHE")
    root = Path(configured) if configured else Path(tempfile.gettempdir()) / "neurallog-container"
    root.mkdir(parents=True, exist_ok=True)
    return root


def today() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")


@contextlib.contextmanager
def locked(root: Path) -> Iterator[None]:
    """Serialise cache updates between concurrent test runs."""
    with (root / "cache.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Buildah:
    """``buildah`` on a private vfs storage with chroot isolation (works as root, no systemd)."""

    def __init__(self, root: Path) -> None:
        self.globals = [
            "buildah",
            "--root",
            str(root / "storage"),
            "--runroot",
            str(root / "run"),
            "--storage-driver",
            "vfs",
        ]

    def __call__(self, *args: str, timeout: float = 900) -> str:
        result = subprocess.run(
            [*self.globals, *args], capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise AssertionError(
                f"buildah {' '.join(args[:2])} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result.stdout

    def exists(self, image: str) -> bool:
        result = subprocess.run(
            [*self.globals, "inspect", "--type", "image", image], capture_output=True, timeout=60
        )
        return result.returncode == 0

    def inspect(self, image: str) -> dict[str, Any]:
        return json.loads(self("inspect", "--type", "image", image))  # type: ignore[no-any-return]

    def popen(self, *args: str, log: Path) -> subprocess.Popen[bytes]:
        """Start a long-running buildah command in its own process group."""
        with log.open("wb") as out:
            return subprocess.Popen(
                [*self.globals, *args], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )


def _debootstrap(rootfs: Path) -> None:
    partial = rootfs.with_name(rootfs.name + f".partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    result = subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            f"--include={BASE_PACKAGES}",
            "bookworm",
            str(partial),
            DEBIAN_MIRROR,
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    if result.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        raise AssertionError(f"debootstrap failed:\n{result.stdout[-3000:]}\n{result.stderr}")
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (partial / leftover).glob("*"):
            if path.is_file():
                path.unlink()
    partial.rename(rootfs)


def base_image(buildah: Buildah, root: Path) -> str:
    """The day's stand-in base image in the private storage; built once per day."""
    stamp = today()
    image = f"{BASE_REPOSITORY}:bookworm-{stamp}"
    with locked(root):
        if buildah.exists(image):
            return image
        rootfs = root / f"rootfs-bookworm-{stamp}"
        if not rootfs.is_dir():
            for old in root.glob("rootfs-bookworm-*"):
                shutil.rmtree(old, ignore_errors=True)
            _debootstrap(rootfs)
        container = buildah("from", "scratch").strip()
        try:
            mountpoint = Path(buildah("mount", container).strip())
            tar = subprocess.Popen(
                ["tar", "-C", str(rootfs), "-cf", "-", "."], stdout=subprocess.PIPE
            )
            untar = subprocess.run(["tar", "-C", str(mountpoint), "-xf", "-"], stdin=tar.stdout)
            assert tar.wait() == 0 and untar.returncode == 0, "copying the rootfs failed"
            buildah("umount", container)
            buildah("config", "--cmd", '["python3"]', container)
            buildah("commit", "--quiet", container, image)
        finally:
            buildah("rm", container)
        for line in buildah("images", "--format", "{{.Name}}:{{.Tag}}").splitlines():
            if line.startswith(BASE_REPOSITORY + ":") and line != image:
                buildah("rmi", line)
    return image


def pip_secrets(workdir: Path) -> list[str]:
    """``--secret`` options carrying this machine's pip index settings and CA bundle.

    Read at test time from ``pip config list`` (files and ``PIP_*`` variables). Only http(s)
    indexes are passed: a ``file://`` index or a find-links directory of the host is not
    visible inside the build, and the default index serves every dependency.
    """
    result = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True, timeout=60
    )
    settings: dict[str, str] = {}
    for line in sorted(result.stdout.splitlines(), key=lambda text: text.startswith(":env:")):
        key, _, value = line.partition("=")
        settings[key.rpartition(".")[2]] = value.strip().strip("'\"")
    lines = ["[global]"]
    for key in PIP_KEYS:
        value = settings.get(key, "")
        if key.endswith("index-url"):
            value = " ".join(
                url for url in value.split() if url.startswith(("http://", "https://"))
            )
        if value:
            lines.append(f"{key} = {value}")
    pip_conf = workdir / "pip.conf"
    pip_conf.write_text("\n".join(lines) + "\n")
    options = ["--secret", f"id=pipconf,src={pip_conf}"]
    cert = settings.get("cert", "")
    if cert and Path(cert).is_file():
        options += ["--secret", f"id=pipcert,src={cert}"]
    return options
