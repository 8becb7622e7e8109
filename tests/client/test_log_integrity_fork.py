"""A client that logged, then forked: parent and child go on writing the same log, and a
reader sees two writer sessions with unbroken counters and no integrity finding.

The child must not continue its parent's session: both would write the same (session,
counter) and readers would see replays. The process really forks with the live server
and the sync client's loop thread running (see test_client_fork.py).
"""

from __future__ import annotations

from collections.abc import Callable

from client_live import FAST_KDF
from test_client_fork import in_child

from neurallog import NeuralLogClient

LOG = "forked-integrity-log"


def test_parent_and_child_write_as_two_sessions(
    server_url: str, sync_new_tenant: Callable[[str], str]
) -> None:
    token = sync_new_tenant("fork-integrity-corp")
    with NeuralLogClient(server_url) as client:
        client.bootstrap_tenant(
            token,
            recovery_phrase="fork integrity phrase words",
            kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )
        client.log_batch(LOG, [{"by": "parent before", "n": n} for n in range(3)])

        def child_work() -> int:
            for n in range(3):
                client.log(LOG, {"by": "child", "n": n})
            return len(client.log_batch(LOG, [{"by": "child batch", "n": n} for n in range(4)]))

        assert in_child(child_work) == 4
        for n in range(3):
            client.log(LOG, {"by": "parent", "n": n})

        page = client.get_logs(LOG, limit=100, strict=True)
        assert page.integrity == ()
        sessions: dict[str, list[tuple[int | None, str]]] = {}
        for entry in reversed(page.entries):
            assert entry.writer is not None and isinstance(entry.data, dict)
            sessions.setdefault(entry.writer, []).append((entry.counter, entry.data["by"]))
        assert len(sessions) == 2
        child, parent = sorted(sessions.values(), key=len, reverse=True)
        assert [c for c, _ in child] == list(range(7))
        assert {by for _, by in child} == {"child", "child batch"}
        assert [c for c, _ in sorted(parent)] == list(range(6))
        assert {by for _, by in parent} == {"parent before", "parent"}
