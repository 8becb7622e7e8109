"""A client that logged, then forked (gunicorn ``--preload``, Celery prefork): parent and
child both log through the live server and no two envelopes share a subkey and nonce.

The process really forks (``os.fork()``) with the live server and the sync client's loop
thread running. The child's requests reach the server thread of the parent, whose
recording middleware keeps every request body: the envelopes of both processes are read
from there, exactly as the server received them.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import select
import signal
from collections.abc import Callable
from typing import Any

from client_live import FAST_KDF, Recorder

from neurallog import NeuralLogClient
from neurallog.crypto.envelope import parse_envelope

LOG = "forked-worker-log"
CHILD_TIMEOUT = 60.0


def sent_envelopes(recorder: Recorder) -> list[tuple[str, str, bytes]]:
    """(version id, entry id, envelope) of every entry the server was sent."""
    out = []
    for method, path, _, body in recorder.requests:
        if method == "POST" and path.startswith("/api/logs/") and path.endswith("/entries"):
            doc = json.loads(body)
            for item in doc["packed"]:  # the client sends the packed form
                out.append((doc["version_id"], item[:22], base64.b64decode(item[22:])))
    return out


def in_child(work: Callable[[], object]) -> object:
    """``os.fork()``; the child runs ``work`` and pickles its result back through a pipe."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as pipe:
                pickle.dump(work(), pipe)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        ready, _, _ = select.select([pipe], [], [], CHILD_TIMEOUT)
        if not ready:  # a client that cannot work after a fork hangs: fail, do not hang
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError(f"the child did not finish within {CHILD_TIMEOUT} s")
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child failed"
    return pickle.loads(data)


def test_forked_client_never_reuses_a_nonce(
    server_url: str, sync_new_tenant: Callable[[str], str], recorder: Recorder
) -> None:
    token = sync_new_tenant("fork-corp")
    with NeuralLogClient(server_url) as client:
        client.bootstrap_tenant(
            token,
            recovery_phrase="fork test phrase words",
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        before = client.log_batch(LOG, [{"n": i, "by": "parent before"} for i in range(3)])

        def child_work() -> list[str]:
            ids = [client.log(LOG, {"n": i, "by": "child"}) for i in range(3)]
            return ids + client.log_batch(LOG, [{"n": i, "by": "child batch"} for i in range(4)])

        child = in_child(child_work)
        parent = [client.log(LOG, {"n": i, "by": "parent"}) for i in range(3)]
        parent += client.log_batch(LOG, [{"n": i, "by": "parent batch"} for i in range(4)])

        assert isinstance(child, list) and len(child) == 7
        sent = sent_envelopes(recorder)
        assert {entry_id for _, entry_id, _ in sent} == {*before, *child, *parent}
        headers = [(version, parse_envelope(env)) for version, _, env in sent]
        pairs = [(version, h.cipher, h.salt, h.nonce) for version, h in headers]
        assert len(set(pairs)) == len(pairs) == 17, "two entries share a subkey and nonce"
        salt_of = {entry_id: parse_envelope(env).salt for _, entry_id, env in sent}
        assert {salt_of[i] for i in child}.isdisjoint({salt_of[i] for i in before + parent})

        # Everything either process wrote opens in the parent.
        page = client.get_logs(LOG, limit=100)
        data: list[Any] = [e.data for e in page.entries]
        assert len(data) == 17
        assert sorted(d["by"] for d in data).count("child") == 3
