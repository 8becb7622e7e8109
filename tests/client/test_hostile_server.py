"""A hostile server against the signed tenant chain: every attack is detected, by name.

Two ways to be hostile, both against the real server over real HTTP:
- edit Redis behind the live server (what anyone who can write Redis can do), and
- rewrite the server's answers on the way to the client (a proxy in the client's HTTP
  stack: what a compromised server process can do without touching Redis).

Each test runs on a single Redis and on a 3-master Redis Cluster. Each checks the typed
error (``ServerIntegrityError`` and its ``reason``) and that nothing was sealed or sent
after the lie: no new version, no new blob, no new entry.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import redis
from client_live import FAST_KDF, Rewrite, RewritingTransport

from neurallog import AsyncNeuralLogClient
from neurallog.crypto.chain import Link, SignedLink, sign_link
from neurallog.errors import ServerIntegrityError
from neurallog.storage import keyspace
from tests.support import audit_tamper

TENANT = "hostile-corp"
PHRASE = "correct horse battery staple hostile edition"


@pytest.fixture(params=["single", "cluster"])
def redis_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Every attack on a single Redis and on the 3-master cluster."""
    if request.param == "cluster":
        nodes = request.getfixturevalue("redis_cluster")
        nodes.flushall()
        yield nodes.url
        return
    server = request.getfixturevalue("redis_server")
    client = redis.Redis.from_url(server.url)
    try:
        client.flushall()
    finally:
        client.close()
    yield server.url


@dataclass
class World:
    url: str
    admin: AsyncNeuralLogClient
    keys: dict[str, str]
    raw: redis.Redis[Any]
    clients: list[AsyncNeuralLogClient]
    http: list[httpx.AsyncClient] = field(default_factory=list)

    def chain(self) -> list[bytes]:
        return self.raw.lrange(keyspace.chain(TENANT), 0, -1)

    def versions(self) -> list[bytes]:
        return self.raw.lrange(keyspace.versions(TENANT), 0, -1)

    async def client(
        self,
        user: str,
        *,
        heads: str = "memory",
        keys: str = "memory",
        rewrite: Rewrite | None = None,
    ) -> AsyncNeuralLogClient:
        """A client of its own: a listing lie reaches a new admin's first version, which
        holds no kept key records (``keys``, see neurallog.client.key_cache)."""
        http = httpx.AsyncClient(transport=RewritingTransport(rewrite)) if rewrite else None
        if http is not None:
            self.http.append(http)
        client = AsyncNeuralLogClient(
            self.url, http_client=http, chain_heads=heads, reader_keys=keys
        )
        self.clients.append(client)
        await client.authenticate_with_api_key(self.keys[user])
        return client

    async def unlocked_admin(self, **kwargs: Any) -> AsyncNeuralLogClient:
        admin = await self.client("admin", **kwargs)
        await admin.initialize_with_recovery_phrase(PHRASE)
        return admin


@pytest.fixture
async def world(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]], raw_redis: redis.Redis[Any]
) -> AsyncIterator[World]:
    token = await new_tenant(TENANT)
    admin = AsyncNeuralLogClient(server_url, chain_heads="memory", reader_keys="memory")
    result = await admin.bootstrap_tenant(
        token,
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        kem="mlkem768-x25519",
        cipher="aes-256-gcm-siv",
        insecure_allow_weak=True,
    )
    keys = {"admin": result.api_key}
    for user, role in (
        ("alice", "member"),
        ("bob", "member"),
        ("carol", "auditor"),
        ("dave", "member"),
    ):
        keys[user] = await admin.enroll_user(user, role=role)
    world = World(server_url, admin, keys, raw_redis, [admin])
    try:
        yield world
    finally:
        for client in world.clients:
            await client.close()
        for http in world.http:
            await http.aclose()


def _reason(caught: pytest.ExceptionInfo[ServerIntegrityError]) -> str:
    return caught.value.reason


# --- rollback ---------------------------------------------------------------------------------


async def test_an_old_version_served_as_active_is_refused(world: World) -> None:
    """Rollback: the version users removed since still hold, shown active again."""
    old = (await world.admin.get_active_kek_version()).id
    new = (await world.admin.rotate_kek("routine", remove_users=["dave"])).version.id
    alice = await world.client("alice")
    await alice.log("app", {"n": 1})
    stream_keys = set(world.raw.scan_iter(match=keyspace.prefix(TENANT) + "log:*"))
    # behind the server: the old version active again, the new one demoted
    world.raw.hset(keyspace.version(TENANT, old), "status", "active")
    world.raw.hset(keyspace.version(TENANT, new), "status", "decrypt-only")
    world.raw.set(keyspace.active_version(TENANT), old)
    entries_before = {k: world.raw.type(k) for k in stream_keys}
    with pytest.raises(ServerIntegrityError) as caught:
        await alice.refresh()
    assert _reason(caught) == "rollback"
    fresh = AsyncNeuralLogClient(world.url, chain_heads="memory")
    world.clients.append(fresh)
    with pytest.raises(ServerIntegrityError) as caught:
        await fresh.authenticate_with_api_key(world.keys["alice"])
        await fresh.log("app", {"n": 2})
    assert _reason(caught) == "rollback"
    assert {k: world.raw.type(k) for k in stream_keys} == entries_before


async def test_a_truncated_chain_is_a_rollback_for_a_client_with_saved_state(
    world: World, tmp_path: Any
) -> None:
    heads = str(tmp_path / "heads.json")
    await world.admin.rotate_kek("routine")
    alice = await world.client("alice", heads=heads)  # verifies and saves the head
    await alice.close()
    world.raw.rpop(keyspace.chain(TENANT))  # the rotation's link is gone
    with pytest.raises(ServerIntegrityError) as caught:
        await world.client("alice", heads=heads)
    assert _reason(caught) == "rollback"


async def test_a_reader_of_newer_entries_detects_an_older_chain(world: World) -> None:
    """Entries bind the chain position they were written under."""
    await world.admin.enroll_user("frank")
    alice = await world.client("alice")
    await alice.log("app", {"after": "frank"})
    world.raw.rpop(keyspace.chain(TENANT))  # hide frank's enrolment from new readers
    world.raw.delete(keyspace.user(TENANT, "frank"))  # and frank himself
    world.raw.srem(keyspace.users(TENANT), "frank")
    bob = await world.client("bob")  # no saved state: the shorter chain verifies
    with pytest.raises(ServerIntegrityError) as caught:
        await bob.get_logs("app")
    assert _reason(caught) == "rollback"


# --- resurrection -----------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["removed", "disabled"])
async def test_a_resurrected_user_gets_nothing(world: World, how: str) -> None:
    if how == "removed":
        await world.admin.rotate_kek("remove dave", remove_users=["dave"])
    else:
        await world.admin.disable_user("dave")
    world.raw.hset(keyspace.user(TENANT, "dave"), "state", "active")
    versions, chain = world.versions(), world.chain()
    admin = await world.unlocked_admin()
    with pytest.raises(ServerIntegrityError) as caught:
        await admin.rotate_kek("routine")
    assert _reason(caught) == "resurrection"
    assert world.versions() == versions and world.chain() == chain
    assert not world.raw.hgetall(keyspace.user_blobs(TENANT, "dave")) or how == "disabled"


async def test_a_resurrected_user_in_a_rewritten_answer_is_refused(world: World) -> None:
    await world.admin.rotate_kek("remove dave", remove_users=["dave"])

    def resurrect(method: str, path: str, doc: Any) -> Any:
        if path == "/api/users" and method == "GET":
            for user in doc["users"]:
                if user["user_id"] == "dave":
                    user["state"] = "active"
        return doc

    admin = await world.unlocked_admin(rewrite=resurrect)
    versions = world.versions()
    with pytest.raises(ServerIntegrityError) as caught:
        await admin.create_kek_version("routine")
    assert _reason(caught) == "resurrection"
    assert world.versions() == versions


# --- roles and coverage -----------------------------------------------------------------------


@pytest.mark.parametrize(("user", "served_role"), [("carol", "member"), ("alice", "auditor")])
async def test_a_changed_role_is_refused(world: World, user: str, served_role: str) -> None:
    """An auditor served as a member would get a blob; a member served as an auditor would
    be left out of coverage. Both are refused before anything is sealed."""
    world.raw.hset(keyspace.user(TENANT, user), "role", served_role)
    versions = world.versions()
    admin = await world.unlocked_admin()
    with pytest.raises(ServerIntegrityError) as caught:
        await admin.rotate_kek("routine")
    assert _reason(caught) == "role_mismatch"
    assert world.versions() == versions


async def test_a_member_hidden_from_the_list_is_not_silently_cut_off(world: World) -> None:
    def hide_alice(method: str, path: str, doc: Any) -> Any:
        if path == "/api/users" and method == "GET":
            doc["users"] = [u for u in doc["users"] if u["user_id"] != "alice"]
        return doc

    admin = await world.unlocked_admin(rewrite=hide_alice)
    versions = world.versions()
    with pytest.raises(ServerIntegrityError) as caught:
        await admin.rotate_kek("routine")
    assert _reason(caught) == "missing_member"
    assert world.versions() == versions


# --- downgrade --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [{"kem": "x25519"}, {"cipher": "aes-256-gcm"}, {"kdf_params": {"t": 1, "m": 256, "p": 1}}],
    ids=["kem", "cipher", "kdf-params"],
)
async def test_a_downgraded_profile_is_refused(world: World, change: dict[str, Any]) -> None:
    raw = world.raw.hget(keyspace.tenant(TENANT), "profile")
    profile = json.loads(raw)
    profile.update(change)
    world.raw.hset(keyspace.tenant(TENANT), "profile", json.dumps(profile))
    with pytest.raises(ServerIntegrityError) as caught:
        await world.client("alice")
    assert _reason(caught) == "downgrade"


async def test_a_downgrade_in_a_rewritten_answer_is_refused(world: World) -> None:
    def downgrade(method: str, path: str, doc: Any) -> Any:
        if path == "/api/tenant":
            doc["profile"]["cipher"] = "aes-256-gcm"
        return doc

    with pytest.raises(ServerIntegrityError) as caught:
        await world.client("bob", rewrite=downgrade)
    assert _reason(caught) == "downgrade"


async def test_a_rotation_answered_with_another_version_is_refused(world: World) -> None:
    """The admin takes the version it made without reading the list back: an answer that
    names an older version as the new active one (so the admin would write under it) is
    refused; the admin's verified chain still says which version it made."""
    old = (await world.admin.get_active_kek_version()).id

    def answer_old(method: str, path: str, doc: Any) -> Any:
        if path == "/api/kek/rotate" and method == "POST":
            doc["version"]["id"] = old
        return doc

    admin = await world.unlocked_admin(rewrite=answer_old)
    with pytest.raises(ServerIntegrityError) as caught:
        await admin.rotate_kek("routine")
    assert _reason(caught) == "rollback"
    session = admin._session
    assert session is not None and session.chain.state is not None
    made = session.chain.state.active_version  # its own accepted link
    assert made is not None and made != old
    assert (await admin.get_active_kek_version()).id == made  # served as such, unrewritten


# --- the chain itself -------------------------------------------------------------------------


async def test_a_link_dropped_from_the_middle_is_detected(world: World) -> None:
    world.raw.lrem(keyspace.chain(TENANT), 1, world.chain()[2])
    with pytest.raises(ServerIntegrityError) as caught:
        await world.client("alice")
    assert _reason(caught) == "truncated"


async def test_a_replaced_link_is_detected(world: World) -> None:
    """A link re-signed by anyone but the tenant (here: another Ed25519 key)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    original = SignedLink.from_json(world.chain()[3])
    body = dict(original.link.body)
    body["role"] = "admin"
    forged = sign_link(
        Link(
            original.link.tenant,
            original.link.seq,
            original.link.prev,
            original.link.time,
            original.link.kind,
            body,
        ),
        Ed25519PrivateKey.generate(),
    )
    world.raw.lset(keyspace.chain(TENANT), 3, forged.to_json())
    with pytest.raises(ServerIntegrityError) as caught:
        await world.client("alice")
    assert _reason(caught) == "bad_signature"


async def test_a_forked_chain_is_detected(world: World, tmp_path: Any) -> None:
    """The server drops a link after a reader saw it and lets an admin sign another one
    at the same position: both are signed, so only the reader's memory tells."""
    heads = str(tmp_path / "heads.json")
    await world.admin.enroll_user("frank")
    alice = await world.client("alice", heads=heads)
    world.raw.rpop(keyspace.chain(TENANT))
    other_admin = await world.unlocked_admin()
    await other_admin.enroll_user("erin")  # signed at frank's position
    with pytest.raises(ServerIntegrityError) as caught:
        await alice.refresh()
    assert _reason(caught) == "fork"
    with pytest.raises(ServerIntegrityError) as caught:
        await world.client("alice", heads=heads)
    assert _reason(caught) == "fork"


async def test_a_chain_of_another_tenant_is_refused(
    world: World, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    other = AsyncNeuralLogClient(world.url, chain_heads="memory")
    world.clients.append(other)
    await other.bootstrap_tenant(
        await new_tenant("other-corp"),
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        insecure_allow_weak=True,
    )
    theirs = world.raw.lrange(keyspace.chain("other-corp"), 0, -1)

    def swap(method: str, path: str, doc: Any) -> Any:
        if path == "/api/chain":
            doc["links"] = [x.decode() for x in theirs]
            doc["length"] = len(theirs)
        return doc

    with pytest.raises(ServerIntegrityError) as caught:
        await world.client("alice", rewrite=swap)
    assert _reason(caught) in ("wrong_tenant", "bad_signature")


# --- the audit log ----------------------------------------------------------------------------


def _edit_audit(world: World, edit: audit_tamper.Edit) -> None:
    """Apply an audit edit with plain commands (the test is the only writer meanwhile; a
    cluster client runs no MULTI across commands)."""
    new, head = edit(audit_tamper.records(world.raw, TENANT))
    world.raw.delete(keyspace.audit(TENANT))
    for seq, fields in new:
        world.raw.xadd(keyspace.audit(TENANT), fields, id=seq)  # type: ignore[arg-type]
    if head is not None:
        world.raw.set(keyspace.audit_head(TENANT), head)


async def test_a_dropped_and_rechained_audit_record_misses_the_signed_checkpoint(
    world: World,
) -> None:
    """The rotation that removed a user is dropped and every later record re-hashed, so the
    unkeyed chain is whole again; the checkpoint an admin signed into a later link is not."""
    await world.admin.rotate_kek("remove dave", remove_users=["dave"])
    await world.admin.enroll_user("frank")  # its link signs the audit head, rotation included
    auditor = await world.client("carol")
    assert (await auditor.verify_audit()).intact
    records = audit_tamper.records(world.raw, TENANT)
    index = next(i for i, (_, f) in enumerate(records) if f["action"] == "kek.rotate")
    _edit_audit(world, audit_tamper.drop_and_rechain(index))
    verdict = await auditor.verify_audit()
    assert not verdict.intact and verdict.reason == "checkpoint_mismatch"
    with pytest.raises(ServerIntegrityError) as caught:
        await auditor.verify_audit(strict=True)
    assert _reason(caught) == "audit_rewritten"


async def test_a_forged_audit_verdict_is_never_relayed(world: World) -> None:
    """The server's own verify route answers 'intact' for an edited record; the client
    recomputes the records and says broken (and never asks that route)."""
    asked: list[str] = []

    def vouch(method: str, path: str, doc: Any) -> Any:
        if path == "/api/audit/verify":
            asked.append(path)
            return {"intact": True, "records": 1, "first_broken": None, "reason": "intact"}
        return doc

    auditor = await world.client("carol", rewrite=vouch)
    _edit_audit(world, audit_tamper.corrupt_target(2, "mallory"))
    verdict = await auditor.verify_audit()
    assert not verdict.intact and verdict.reason == "hash_mismatch"
    assert asked == []


# --- log entries ------------------------------------------------------------------------------


async def _five_entries(world: World) -> tuple[AsyncNeuralLogClient, str, list[str]]:
    alice = await world.client("alice")
    ids = [await alice.log("app", {"n": n}) for n in range(5)]
    assert alice._session is not None
    version = (await alice.get_active_kek_version()).id
    stream = alice._session.working_keys(version).stream_id("app")
    return alice, keyspace.log_stream(TENANT, stream), ids


def _seq_of(world: World, key: str, entry_id: str) -> tuple[bytes, dict[bytes, bytes]]:
    for seq, fields in world.raw.xrange(key):
        if fields[b"id"] == entry_id.encode():
            return seq, fields
    raise AssertionError(entry_id)


async def test_a_withheld_entry_is_found(world: World) -> None:
    alice, key, ids = await _five_entries(world)
    world.raw.xdel(key, _seq_of(world, key, ids[2])[0])
    page = await alice.get_logs("app")
    assert [f.kind for f in page.integrity] == ["withheld"]
    with pytest.raises(ServerIntegrityError) as caught:
        await alice.get_logs("app", strict=True)
    assert _reason(caught) == "withheld"


async def test_an_entry_replayed_across_pages_is_found(world: World) -> None:
    alice, key, ids = await _five_entries(world)
    world.raw.xadd(key, _seq_of(world, key, ids[4])[1])  # the newest, once more
    first = await alice.get_logs("app", limit=1, strict=True)  # one entry per page
    assert first.integrity == ()
    with pytest.raises(ServerIntegrityError) as caught:
        await alice.get_logs("app", limit=1, cursor=first.cursor, strict=True)
    assert _reason(caught) == "replayed"


async def test_reordered_entries_are_found(world: World) -> None:
    alice, key, ids = await _five_entries(world)
    seq, fields = _seq_of(world, key, ids[1])
    world.raw.xdel(key, seq)
    world.raw.xadd(key, fields)  # entry 1 moved after entry 4
    with pytest.raises(ServerIntegrityError) as caught:
        await alice.get_logs("app", strict=True)
    assert _reason(caught) == "reordered"


# --- an honest server, busy clients -----------------------------------------------------------


async def test_concurrent_syncs_of_one_client_agree(world: World) -> None:
    """Many requests of one client sync the chain at once while it grows: none of them may
    mistake another's newer head for a rollback (seen in the soak run)."""
    import asyncio

    alice = await world.client("alice")
    for n in range(3):
        await world.admin.enroll_user(f"busy-{n}")  # the chain grows behind alice's head
        states = await asyncio.gather(*(alice.verified_state() for _ in range(8)))
        assert len({s.head for s in states if s is not None}) == 1
