"""The synchronous wrapper, used from plain (non-async) tests, against the live server."""

from __future__ import annotations

import asyncio
import inspect
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from client_live import FAST_KDF, Recorder
from zk_scan import encodings, redis_dump

from neurallog import AsyncNeuralLogClient, NeuralLogClient
from neurallog.crypto.apikeys import ApiKey
from neurallog.errors import AuthenticationError, InvalidApiKeyError, NotInitializedError


def test_sync_client_walkthrough(
    server_url: str,
    sync_new_tenant: Callable[[str], str],
    caplog: pytest.LogCaptureFixture,
    recorder: Recorder,
    raw_redis: redis.Redis[Any],
) -> None:
    caplog.set_level(logging.DEBUG)
    token = sync_new_tenant("sync-corp")
    phrase = "sync walkthrough phrase with enough words"
    with NeuralLogClient(server_url) as admin:
        result = admin.bootstrap_tenant(
            token, recovery_phrase=phrase, kdf_params=FAST_KDF, insecure_allow_weak=True
        )
        assert admin.role == "admin" and admin.tenant_id == "sync-corp"
        svc_key = admin.enroll_user("svc-1")
        with NeuralLogClient(server_url, api_key=svc_key) as svc:
            svc.log("nightly-billing-jobs", {"n": 1})
            svc.log("nightly-billing-jobs", "two")
            svc.log("nightly-billing-jobs", b"3")
            assert [e.data for e in svc.get_logs("nightly-billing-jobs").entries] == [
                b"3",
                "two",
                {"n": 1},
            ]
            rotated = admin.rotate_kek("scheduled")
            # The member's cached version is stale: the 409 makes it reload and retry once.
            svc.log("nightly-billing-jobs", "four")
            page = svc.get_logs("nightly-billing-jobs", limit=2)
            assert [e.data for e in page.entries] == ["four", b"3"]
            assert page.entries[0].version_id == rotated.version.id
            assert page.entries[1].version_id == result.version.id
            rest = svc.get_logs("nightly-billing-jobs", limit=2, cursor=page.cursor)
            assert [e.data for e in rest.entries] == ["two", {"n": 1}] and rest.cursor is None
            assert svc_key not in repr(svc)
        with pytest.raises(RuntimeError, match="closed"):
            svc.get_logs("nightly-billing-jobs")
    secret_forms = [svc_key, result.api_key, ApiKey.parse(svc_key).to_string().split(".")[3]]
    for line in caplog.messages:
        assert phrase not in line
        for form in secret_forms:
            assert form not in line
    # Zero knowledge for a phrase tenant too: the phrase (raw or normalised), the keys and
    # the logged text never reach Redis or a request body, in any common encoding.
    haystack = b"\n".join(redis_dump(raw_redis) + recorder.bodies())
    for secret in [phrase, " ".join(phrase.split()), *secret_forms, "nightly-billing-jobs"]:
        for form in encodings(secret.encode()):
            assert form not in haystack


def test_sync_client_errors_are_typed_and_safe(
    server_url: str, sync_new_tenant: Callable[[str], str]
) -> None:
    token = sync_new_tenant("sync-errors")
    with NeuralLogClient(server_url) as client:
        with pytest.raises(NotInitializedError, match="authenticate_with_api_key"):
            client.log("x", "y")
        result = client.bootstrap_tenant(
            token, recovery_phrase="p q r", kdf_params=FAST_KDF, insecure_allow_weak=True
        )
        parsed = ApiKey.parse(result.api_key)
        secret = result.api_key.split(".")[3]
        wrong = ApiKey(parsed.tenant_id, "0" * 32, parsed.secret, parsed.signing_fingerprint)
        with pytest.raises(AuthenticationError) as info:
            client.authenticate_with_api_key(wrong.to_string())
        assert secret not in str(info.value) and secret not in repr(info.value)
        with pytest.raises(InvalidApiKeyError) as bad:
            client.authenticate_with_api_key(result.api_key[:-3])
        assert secret not in str(bad.value)
        with pytest.raises(InvalidApiKeyError, match="tenant"):
            NeuralLogClient(server_url, tenant_id="other-tenant", api_key=result.api_key)


def test_sync_client_from_threads_and_inside_a_loop(
    server_url: str, sync_new_tenant: Callable[[str], str]
) -> None:
    token = sync_new_tenant("sync-threads")
    with NeuralLogClient(server_url) as admin:
        admin.bootstrap_tenant(
            token, recovery_phrase="t h r", kdf_params=FAST_KDF, insecure_allow_weak=True
        )
        errors: list[BaseException] = []

        def worker(n: int) -> None:
            try:
                for i in range(5):
                    admin.log("threads", {"worker": n, "i": i})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        assert len(admin.get_logs("threads").entries) == 20

        async def inside_loop() -> int:
            return len(admin.get_logs("threads", limit=3).entries)

        assert asyncio.run(inside_loop()) == 3


def test_sync_methods_mirror_async_methods() -> None:
    async_methods = {
        name: member
        for name, member in inspect.getmembers(AsyncNeuralLogClient)
        if not name.startswith("_") and inspect.iscoroutinefunction(member)
    }
    assert {"log", "get_logs", "rotate_kek", "bootstrap_tenant", "enroll_user"} <= set(
        async_methods
    )
    for name, method in async_methods.items():
        mirror = getattr(NeuralLogClient, name, None)
        assert mirror is not None, f"NeuralLogClient lacks {name}"
        assert not inspect.iscoroutinefunction(mirror)
        a, s = inspect.signature(method), inspect.signature(mirror)
        assert list(a.parameters) == list(s.parameters), name
        for pa, ps in zip(a.parameters.values(), s.parameters.values(), strict=True):
            assert (pa.kind, pa.default) == (ps.kind, ps.default), f"{name}({pa.name})"
        assert a.return_annotation == s.return_annotation, name


def test_committed_sync_client_is_generated_and_current() -> None:
    """sync.py is scripts/gen_sync_client.py's output for the current async client."""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(root / "scripts" / "gen_sync_client.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
