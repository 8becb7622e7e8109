"""The client's chain pieces on their own: the head store and the checks of served state.

The live attacks are in test_hostile_server.py; these pin the rules themselves.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from neurallog.client.head_store import FileHeadStore, MemoryHeadStore, head_store
from neurallog.client.models import Profile, User, Version
from neurallog.client.tenant_chain import (
    check_profile,
    check_user,
    check_versions,
    fingerprint,
    genesis_links,
    reader_recipients,
)
from neurallog.crypto.chain import verify_chain
from neurallog.errors import ServerIntegrityError

TENANT = "units-corp"
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
V1, V2, V3, V9 = (f"00000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3, 9))


def _profile(**changes: object) -> Profile:
    fields: dict[str, object] = {
        "kdf": "argon2id",
        "kdf_params": {"t": 3, "m": 65536, "p": 4},
        "cipher": "aes-256-gcm-siv",
        "kem": "mlkem768-x25519",
        "secret_kind": "phrase",
        "key_check": None,
        "signing_public_key": PUB,
    }
    fields.update(changes)
    return Profile(**fields)  # type: ignore[arg-type]


def _user(uid: str, role: str = "member", state: str = "active", n: int = 0) -> User:
    return User(uid, role, state, f"key of {uid}".encode(), T0.replace(second=n))


def _version(vid: str, status: str) -> Version:
    return Version.from_json(
        {
            "id": vid,
            "status": status,
            "created_at": "2026-01-01T00:00:00Z",
            "created_by": "admin",
            "reason": "",
            "blob_count": 0,
        }
    )


def _state(users: list[User], versions: list[Version]):  # type: ignore[no-untyped-def]
    links = genesis_links(TENANT, KEY, _profile(), users, versions)
    return verify_chain(links, PUB, TENANT)


USERS = [
    _user("admin", "admin", n=1),
    _user("alice", n=2),
    _user("carol", "auditor", n=3),
    _user("dave", state="disabled", n=4),
    _user("bob", state="removed", n=5),
]
VERSIONS = [_version(V1, "deprecated"), _version(V2, "decrypt-only"), _version(V3, "active")]


def test_genesis_replays_to_the_served_state() -> None:
    state = _state(USERS, VERSIONS)
    assert dict(state.versions) == {V1: "deprecated", V2: "decrypt-only", V3: "active"}
    assert state.active_version == V3
    assert {u: m.state for u, m in state.members.items()} == {
        "admin": "active",
        "alice": "active",
        "carol": "active",
        "dave": "disabled",
        "bob": "removed",
    }
    assert state.members["alice"].fingerprint == hashlib.sha256(b"key of alice").hexdigest()
    assert state.active_members() == {"admin", "alice"}  # never the auditor


def test_genesis_of_a_tenant_without_an_active_version() -> None:
    state = _state(USERS, [_version(V1, "decrypt-only")])
    assert state.active_version is None
    assert dict(state.versions) == {V1: "decrypt-only"}


def test_served_profile_must_be_the_signed_one() -> None:
    state = _state(USERS, VERSIONS)
    check_profile(state, _profile())
    for change in (
        {"kem": "x25519"},
        {"cipher": "aes-256-gcm"},
        {"kdf_params": {"t": 1, "m": 65536, "p": 4}},
        {"kdf": "pbkdf2-sha256"},
    ):
        with pytest.raises(ServerIntegrityError) as caught:
            check_profile(state, _profile(**change))
        assert caught.value.reason == "downgrade"


def test_served_versions_must_be_the_signed_ones() -> None:
    state = _state(USERS, VERSIONS)
    check_versions(state, VERSIONS)
    cases = {
        "rollback": [_version(V2, "active"), _version(V3, "decrypt-only")],
        "version_state": [_version(V1, "decrypt-only")],
        "unknown_version": [_version(V9, "decrypt-only")],
    }
    for reason, served in cases.items():
        with pytest.raises(ServerIntegrityError) as caught:
            check_versions(state, served)
        assert caught.value.reason == reason
    with pytest.raises(ServerIntegrityError) as caught:
        check_versions(state, VERSIONS[:2])  # the active version hidden
    assert caught.value.reason == "rollback"


def test_served_users_must_be_the_signed_ones() -> None:
    state = _state(USERS, VERSIONS)
    for user in USERS:
        check_user(state, user)
    cases = {
        "resurrection": [_user("bob"), _user("dave")],
        "role_mismatch": [_user("carol", "member"), _user("alice", "auditor")],
        "unknown_member": [_user("mallory")],
        "key_mismatch": [User("alice", "member", "active", b"another key", T0)],
    }
    for reason, users in cases.items():
        for user in users:
            with pytest.raises(ServerIntegrityError) as caught:
                check_user(state, user)
            assert caught.value.reason == reason


def test_recipients_are_the_chains_active_readers() -> None:
    state = _state(USERS, VERSIONS)
    assert [u.user_id for u in reader_recipients(state, USERS)] == ["admin", "alice"]
    assert [u.user_id for u in reader_recipients(state, USERS, exclude=["alice"])] == ["admin"]
    with pytest.raises(ServerIntegrityError) as caught:
        reader_recipients(state, [u for u in USERS if u.user_id != "alice"])
    assert caught.value.reason == "missing_member"


def test_fingerprint_is_sha256_of_the_served_key_bytes() -> None:
    assert fingerprint(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"  # FIPS 180-2
    )


def test_file_store_keeps_heads_by_tenant_and_key_and_never_goes_back(tmp_path: Path) -> None:
    path = tmp_path / "state" / "chain-heads.json"
    store = FileHeadStore(path)
    assert store.load(TENANT, PUB) is None
    store.save(TENANT, PUB, (5, b"\x05" * 32))
    store.save(TENANT, PUB, (3, b"\x03" * 32))  # a slower process: ignored
    assert FileHeadStore(path).load(TENANT, PUB) == (5, b"\x05" * 32)
    assert store.load(TENANT, b"\x00" * 32) is None  # same name, another tenant key
    doc = json.loads(path.read_text())
    assert doc["v"] == 1 and len(doc["heads"]) == 1
    path.write_text("not json")
    with pytest.raises(ValueError, match="not a NeuralLog head store"):
        store.load(TENANT, PUB)


def _save_many(path: str, start: int) -> None:
    store = FileHeadStore(path)
    for seq in range(start, start + 40):
        store.save(TENANT, PUB, (seq, seq.to_bytes(32, "big")))


def test_file_store_under_concurrent_processes_keeps_the_highest(tmp_path: Path) -> None:
    path = str(tmp_path / "heads.json")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_save_many, args=(path, start)) for start in (0, 20, 40)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    assert FileHeadStore(path).load(TENANT, PUB) == (79, (79).to_bytes(32, "big"))


def test_store_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(head_store("memory"), MemoryHeadStore)
    chosen = head_store(tmp_path / "x.json")
    assert isinstance(chosen, FileHeadStore) and chosen.path == tmp_path / "x.json"
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    default = head_store(None)
    assert isinstance(default, FileHeadStore)
    assert default.path == tmp_path / "xdg" / "neurallog" / "chain-heads.json"
    monkeypatch.setenv("NEURALLOG_CHAIN_HEADS", "memory")
    assert isinstance(head_store(None), MemoryHeadStore)
    memory = MemoryHeadStore()
    memory.save(TENANT, PUB, (2, b"\x02" * 32))
    memory.save(TENANT, PUB, (1, b"\x01" * 32))
    assert memory.load(TENANT, PUB) == (2, b"\x02" * 32)


async def test_an_accepted_own_link_becomes_the_head_only_when_it_follows_it() -> None:
    """``ChainTracker.adopt``: this client's link that the server accepted extends the
    verified state (and the saved head) without a fetch, but only directly after the
    head, never during a sync, and never a link that does not verify."""
    import asyncio

    from neurallog.client.tenant_chain import ChainTracker

    state = _state(USERS, VERSIONS)
    heads = MemoryHeadStore()
    tracker = ChainTracker(None, heads, TENANT, PUB, state=state)  # type: ignore[arg-type]
    body = {"version_id": V2, "status": "deprecated"}
    signed = tracker.sign(KEY, "version.status", body, state=state)

    tracker._lock = asyncio.Lock()
    async with tracker._lock:  # a sync under way: it will read the link itself
        tracker.adopt(signed)
    assert tracker.state is state

    other = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    tracker.adopt(tracker.sign(other, "version.status", body, state=state))  # not ours
    assert tracker.state is state and heads.load(TENANT, PUB) is None

    tracker.adopt(signed)
    assert tracker.state is not state and tracker.state.versions[V2] == "deprecated"
    assert tracker.state.head.seq == state.head.seq + 1
    assert heads.load(TENANT, PUB) == (tracker.state.head.seq, tracker.state.head.hash)

    adopted = tracker.state
    tracker.adopt(tracker.sign(KEY, "version.status", body, state=state))  # the old head
    assert tracker.state is adopted
