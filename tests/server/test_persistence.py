"""The embedded Redis keeps its data (AOF, fsync everysec) across restarts of the server.

Real ``neurallog serve`` subprocesses on the embedded default, real HTTP with httpx. The
second case kills the server's whole process group with SIGKILL: the embedded Redis then
gets SIGTERM from the kernel (parent-death signal) and still fsyncs its append-only file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from serving import (
    Member,
    Serve,
    add_user,
    bootstrap,
    clean_env,
    cli,
    version_body,
)

pytestmark = pytest.mark.slow


def _snapshot(base: str, admin: Member, member: Member) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=10) as client:
        versions = client.get("/api/kek/versions", headers=admin.auth).json()
        active = client.get("/api/kek/versions/active", headers=member.auth).json()
        mine = client.get("/api/kek/blobs/me", headers=member.auth).json()
        admin_blobs = client.get("/api/kek/blobs/users/admin", headers=admin.auth).json()
        records = client.get("/api/audit", params={"limit": 1000}, headers=admin.auth).json()
        verify = client.get("/api/audit/verify", headers=admin.auth).json()
    return {
        "versions": versions,
        "active": active,
        "member_blobs": mine,
        "admin_blobs": admin_blobs,
        "audit": records["records"],
        "verify": verify,
    }


@pytest.mark.parametrize("stop", ["sigterm", "sigkill"])
def test_versions_blobs_and_audit_survive_a_restart(tmp_path: Path, stop: str) -> None:
    env = clean_env(NEURALLOG_DATA_DIR=str(tmp_path / "data"))
    created = cli("tenant", "create", "acme", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()

    server = Serve(env, tmp_path / "serve.log").start()
    try:
        admin = bootstrap(server.base, "acme", token)
        member = add_user(server.base, admin, "acme", "mia", "member")
        for _round in range(2):
            answer = httpx.post(
                server.base + "/api/kek/versions",
                json=version_body(["admin", "mia"]),
                headers=admin.auth,
                timeout=10,
            )
            assert answer.status_code == 201, answer.text
        before = _snapshot(server.base, admin, member)
    finally:
        if stop == "sigterm":
            assert server.terminate() == 0, server.log()
        else:
            server.kill()

    assert len(before["versions"]["versions"]) == 2
    assert len(before["member_blobs"]["blobs"]) == 2
    assert before["verify"]["intact"] is True
    assert len(before["audit"]) >= 4

    again = Serve(env, tmp_path / "serve2.log", port=server.port).start()
    try:
        after = _snapshot(again.base, admin, member)
    finally:
        assert again.terminate() == 0, again.log()

    assert after["versions"] == before["versions"]
    assert after["active"] == before["active"]
    assert after["member_blobs"] == before["member_blobs"]
    assert after["admin_blobs"] == before["admin_blobs"]
    # reading the audit log may itself be audited: the old records must all be there
    old = {record["seq"]: record for record in before["audit"]}
    new = {record["seq"]: record for record in after["audit"]}
    assert all(new.get(seq) == record for seq, record in old.items())
    assert after["verify"]["intact"] is True
    # and the operator command, on a temporary embedded Redis over the same files
    verified = cli("audit", "verify", "acme", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    counted = re.search(r"intact: (\d+) records", verified.stdout)
    assert counted, verified.stdout
    # the HTTP verify call may itself have been audited after it counted
    assert int(counted[1]) >= after["verify"]["records"]
