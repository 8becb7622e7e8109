"""The signed rotation policy in the client and ``neurallog rotate --if-due``.

``set_rotation_policy`` signs a ``policy`` link; ``rotation_due`` decides from the verified
chain alone: the policy from the chain and the active version's age from the signer's
time on the link that made it active, never from the server's ``created_at`` or its
``GET /api/tenant``. A server that shows another policy than the chain is a downgrade.
Real redis-server, real Sanic app, real HTTP, real client; the CLI runs in-process.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from neurallog import NeuralLogClient
from neurallog.cli import main
from neurallog.client.tenant_chain import link_time
from neurallog.errors import ServerIntegrityError
from neurallog.storage import keyspace
from tests.support.raw_redis import raw_redis

DAY = 86_400


@pytest.fixture
def admin(
    server_url: str, sync_new_tenant: Callable[[str], str]
) -> Iterator[tuple[NeuralLogClient, Any]]:
    """A bootstrapped tenant's admin client (unlocked) and its bootstrap result."""
    token = sync_new_tenant("acme")
    with NeuralLogClient(server_url) as client:
        result = client.bootstrap_tenant(token)
        yield client, result


def _sign_with_clock(client: NeuralLogClient, seconds: int | None) -> None:
    """Sign the next links at a fixed ``time`` (None: the clock again): an admin machine
    whose rotation happened that long ago, without waiting for it."""
    chain = client._client._need_session().chain
    chain.clock = link_time if seconds is None else (lambda: seconds)


def test_policy_is_set_and_read_back_through_the_chain(
    admin: tuple[NeuralLogClient, Any], server_url: str
) -> None:
    client, result = admin
    assert client.rotation_due().policy_days == 0
    assert client.set_rotation_policy(30) == 30
    state = client.verified_state()
    assert state is not None and state.rotate_every_days == 30
    assert client.get_tenant().rotate_every_days == 30
    # another client of the tenant reads the same policy from the chain
    with NeuralLogClient(server_url) as other:
        other.authenticate_with_api_key(result.api_key)
        assert other.rotation_due().policy_days == 30
    assert client.set_rotation_policy(None) == 0
    assert client.rotation_due().policy_days == 0
    for bad in (3651, -1):
        with pytest.raises(ValueError):
            client.set_rotation_policy(bad)


def test_rotation_due_follows_the_signed_time_of_the_active_version(
    admin: tuple[NeuralLogClient, Any],
) -> None:
    client, _ = admin
    assert client.rotation_due().due is False  # no policy: never due
    later = datetime.now(UTC) + timedelta(days=400)
    assert client.rotation_due(now=later).due is False
    client.set_rotation_policy(1)
    fresh = client.rotation_due()
    assert fresh.due is False and fresh.policy_days == 1
    assert fresh.active_since is not None and fresh.due_at == fresh.active_since + timedelta(days=1)
    assert fresh.age is not None and fresh.age < timedelta(minutes=5)
    assert client.rotation_due(now=fresh.active_since + timedelta(days=1, seconds=1)).due
    # A rotation whose link was signed two days ago: due now, although the server
    # stored the version's created_at a moment ago.
    _sign_with_clock(client, int(time.time()) - 2 * DAY)
    rotated = client.rotate_kek("old rotation")
    _sign_with_clock(client, None)
    due = client.rotation_due()
    assert due.active_version == rotated.version.id
    assert due.due is True and due.age is not None and due.age > timedelta(days=2)
    assert (datetime.now(UTC) - rotated.version.created_at) < timedelta(minutes=5)
    client.rotate_kek("fresh rotation")
    assert client.rotation_due().due is False


def test_a_server_showing_another_policy_is_a_downgrade_and_the_chain_wins(
    admin: tuple[NeuralLogClient, Any], redis_url: str
) -> None:
    client, _ = admin
    client.set_rotation_policy(1)
    raw = raw_redis(redis_url)
    try:
        raw.hset(keyspace.tenant("acme"), "rotate_every_days", "3650")
    finally:
        raw.close()
    with pytest.raises(ServerIntegrityError) as info:
        client.get_tenant()
    assert info.value.reason == "downgrade"
    assert client.rotation_due().policy_days == 1
    assert client.rotation_due(now=datetime.now(UTC) + timedelta(days=2)).due is True


# --- neurallog rotate --if-due --------------------------------------------------------------


def _cli(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_rotate_if_due_exit_codes(
    admin: tuple[NeuralLogClient, Any],
    server_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, result = admin
    secret = tmp_path / "rotate.secret"
    secret.write_text(f"{result.api_key}\n{result.mnemonic}\n")
    secret.chmod(0o600)
    argv = ["rotate", "--if-due", "--url", server_url, "--secret-file", str(secret), "--json"]
    # no policy: not due (4), nothing rotated
    before = client.get_active_kek_version().id
    code, out, err = _cli(monkeypatch, capsys, argv)
    assert code == 4, err
    assert json.loads(out)["due"] is False and json.loads(out)["rotated"] is None
    # policy 1 day and an active version whose link was signed two days ago: rotated (0)
    client.set_rotation_policy(1)
    _sign_with_clock(client, int(time.time()) - 2 * DAY)
    client.rotate_kek("old rotation")
    _sign_with_clock(client, None)
    code, out, err = _cli(monkeypatch, capsys, argv)
    assert code == 0, err
    verdict = json.loads(out)
    assert verdict["due"] is True and verdict["age_seconds"] >= 2 * DAY
    new = client.get_active_kek_version().id
    assert verdict["rotated"] == new and new != before
    # right after: not due
    code, out, err = _cli(monkeypatch, capsys, argv)
    assert code == 4 and json.loads(out)["due"] is False
    # the secrets come from stdin as well (one per line), and are never echoed
    code, out, err = _cli(
        monkeypatch,
        capsys,
        ["rotate", "--if-due", "--url", server_url],
        f"{result.api_key}\n{result.mnemonic}\n",
    )
    assert code == 4, err
    assert "not due: next rotation due at" in err
    for text in (out, err):
        # three words in a row: one BIP-39 word alone ("tenant") may be in any message
        assert result.api_key not in text
        assert " ".join(result.mnemonic.split()[:3]) not in text
    # without --if-due it rotates at once
    code, _, err = _cli(monkeypatch, capsys, ["rotate", "--url", server_url], secret.read_text())
    assert code == 0, err
    assert client.get_active_kek_version().id != new


def test_rotate_refuses_a_shared_secret_file_and_reports_an_unreachable_server(
    admin: tuple[NeuralLogClient, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    server_url: str,
) -> None:
    _, result = admin
    secret = tmp_path / "rotate.secret"
    secret.write_text(f"{result.api_key}\n{result.mnemonic}\n")
    secret.chmod(0o640)
    argv = ["rotate", "--if-due", "--url", server_url, "--secret-file", str(secret)]
    code, _, err = _cli(monkeypatch, capsys, argv)
    assert code == 2 and "chmod 600" in err
    secret.chmod(0o600)
    secret.write_text(f"{result.api_key}\n")
    code, _, err = _cli(monkeypatch, capsys, argv)
    assert code == 2 and "two lines" in err
    secret.write_text(f"{result.api_key}\n{result.mnemonic}\n")
    unreachable = ["rotate", "--if-due", "--url", "http://127.0.0.1:9", "--secret-file"]
    code, _, err = _cli(monkeypatch, capsys, [*unreachable, str(secret)])
    assert code == 3, err
    assert result.api_key not in err
