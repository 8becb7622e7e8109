"""``neurallog audit verify --url``: the verdict of this machine, against a live server.

The API key is fed on stdin (not a terminal), as a script would. The server's own
``/api/audit/verify`` keeps saying "intact" after a record is edited in Redis behind it;
the command recomputes and says broken.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import redis
from client_live import FAST_KDF, Recorder

from neurallog import NeuralLogClient
from neurallog.cli import main
from neurallog.wire import paths
from tests.support import audit_tamper

TENANT = "audit-cli"


def run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: list[str], key: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{key}\n"))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_audit_verify_through_the_client(
    server_url: str,
    sync_new_tenant: Callable[[str], str],
    raw_redis: redis.Redis[Any],
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    token = sync_new_tenant(TENANT)
    with NeuralLogClient(server_url) as admin:
        result = admin.bootstrap_tenant(
            token, recovery_phrase="audit cli phrase " * 3, kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )  # fmt: skip
        for name in ("alice", "bob", "carol"):
            admin.enroll_user(name)
        key = result.api_key

    code, out, err = run(monkeypatch, capsys, ["audit", "verify", "--url", server_url], key)
    assert code == 0, err
    assert f"audit chain of {TENANT!r} intact" in out and "verified by this client" in out
    # the signed tenant chain's newest admin link carries the checkpoint
    assert "checkpoint" in out and "no trusted checkpoint" not in out and key not in out + err

    argv = ["audit", "verify", TENANT, "--url", server_url, "--json"]
    code, out, _ = run(monkeypatch, capsys, argv, key)
    honest = json.loads(out)
    assert code == 0 and honest["intact"] and honest["verified_by"] == "client"
    assert honest["checkpoint"]["count"] > 0 and honest["tenant"] == TENANT

    with NeuralLogClient(server_url, api_key=key) as admin:
        assert admin._run(admin._client._transport.get(paths.AUDIT_VERIFY, {"full": "true"}))
    edited = audit_tamper.rewrite(raw_redis, TENANT, audit_tamper.corrupt_target(1, "mallory"))
    with NeuralLogClient(server_url, api_key=key) as admin:
        server = admin._run(admin._client._transport.get(paths.AUDIT_VERIFY))
    assert server["intact"]  # the server's incremental walk vouches for the edited log

    code, out, _ = run(monkeypatch, capsys, argv, key)
    verdict = json.loads(out)
    assert code == 1
    assert (verdict["intact"], verdict["reason"], verdict["first_broken"]) == (
        False, "hash_mismatch", edited[1][0],
    )  # fmt: skip
    code, out, _ = run(monkeypatch, capsys, ["audit", "verify", "--url", server_url], key)
    assert code == 1 and f"BROKEN at record {edited[1][0]}" in out and "hash_mismatch" in out
    asked = [r for r in recorder.requests if r[1] == paths.AUDIT_VERIFY]
    assert len(asked) == 2  # only the test's own two questions; the command never asks

    code, _, err = run(monkeypatch, capsys, ["audit", "verify", "other", "--url", server_url], key)
    assert code == 1 and "not 'other'" in err


def test_audit_verify_needs_a_tenant_or_a_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["audit", "verify"])
    assert exited.value.code == 2 and "--url" in capsys.readouterr().err
