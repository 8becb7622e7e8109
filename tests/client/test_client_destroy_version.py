"""Destroying an old KEK version with the real client over the real server and Redis.

A removed user kept the old version's Operational KEK and later gets a full Redis dump:
before the destroy it opens entries of that version; once the logs are deleted and the
version destroyed, nothing in the dump is of that version any more (no entry, no blob).
Members drop the destroyed version's key on refresh, and the verified chain shows it.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
from client_live import FAST_KDF

from neurallog import AsyncNeuralLogClient
from neurallog.client import CatalogueLog
from neurallog.crypto.envelope import EnvelopeOpener
from neurallog.crypto.working import WorkingKeys
from neurallog.errors import (
    ConflictError,
    DecryptionError,
    FormatError,
    NoAccessToVersionError,
)
from neurallog.storage import keyspace

TENANT = "destroy-corp"
PHRASE = "correct horse battery staple destroy edition"


def dump(raw: redis.Redis[Any]) -> dict[bytes, Any]:
    """Every key of the Redis and its whole value (not DUMP: its compressed encodings
    would hide a value from the search)."""
    out: dict[bytes, Any] = {}
    for key in raw.scan_iter(count=1000):
        kind = raw.type(key)
        if kind == b"stream":
            out[key] = [(seq, fields) for seq, fields in raw.xrange(key)]
        elif kind == b"hash":
            out[key] = raw.hgetall(key)
        elif kind == b"list":
            out[key] = raw.lrange(key, 0, -1)
        elif kind == b"set":
            out[key] = raw.smembers(key)
        elif kind == b"zset":
            out[key] = raw.zrange(key, 0, -1, withscores=True)
        else:
            out[key] = raw.get(key)
    return out


def opened_entries(snapshot: dict[bytes, Any], opener: EnvelopeOpener) -> list[bytes]:
    """Every stream entry of the dump that ``opener`` decrypts."""
    head = keyspace.log_stream(TENANT, "").encode()
    found = []
    for key, value in snapshot.items():
        if not key.startswith(head) or b":" in key[len(head) :]:
            continue  # not a stream (its id set, its retention)
        stream = key[len(head) :].decode()
        for _seq, fields in value:
            try:
                found.append(
                    opener.open(
                        base64.b64decode(fields[b"e"]),
                        stream_id=stream,
                        entry_id=fields[b"id"].decode(),
                    )
                )
            except (DecryptionError, FormatError, NoAccessToVersionError):
                continue  # another version's entry
    return found


def mentions(snapshot: dict[bytes, Any], version_id: str) -> set[bytes]:
    """The keys whose name or value names ``version_id``."""
    needle = version_id.encode()
    return {
        key for key, value in snapshot.items() if needle in key or needle in repr(value).encode()
    }


async def test_destroy_leaves_a_removed_user_nothing_of_the_version(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
) -> None:
    admin = AsyncNeuralLogClient(server_url)
    result = await admin.bootstrap_tenant(
        await new_tenant(TENANT),
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        insecure_allow_weak=True,
    )
    v1 = result.version.id
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    bob = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("bob"))
    async with alice, bob:
        await alice.log("orders", {"n": 1})
        await alice.log_batch("billing", [{"n": i} for i in range(3)])
        assert bob._session is not None
        kept = bytes(bob._session.operational_kek(v1))  # bob keeps it, then is removed
        v2 = (await admin.rotate_kek("remove bob", remove_users=["bob"])).version.id
        await alice.log("orders", {"n": 2})
        stolen = EnvelopeOpener(TENANT, {v1: WorkingKeys(TENANT, v1, kept).data_key})
        assert len(opened_entries(dump(raw_redis), stolen)) == 4

        with pytest.raises(ConflictError) as refused:
            await admin.destroy_kek_version(v1)
        assert refused.value.status == 409 and refused.value.extensions["entries"] == 4
        await alice.refresh()
        assert v1 in alice._session.held()  # type: ignore[union-attr]

        await admin.delete_log("orders")
        await admin.delete_log("billing")
        before = dump(raw_redis)
        assert keyspace.user_blobs(TENANT, "alice").encode() in mentions(before, v1)
        version = await admin.destroy_kek_version(v1)
        assert version.status == "destroyed" and version.blob_count == 0
        after = dump(raw_redis)
        assert opened_entries(after, stolen) == []
        # what still names v1: its version record, the version list, the signed chain and
        # the audit log; no blob, no entry, no catalogue
        assert mentions(after, v1) == {
            keyspace.version(TENANT, v1).encode(),
            keyspace.versions(TENANT).encode(),
            keyspace.chain(TENANT).encode(),
            keyspace.audit(TENANT).encode(),
        }

        await alice.refresh()
        assert alice._session is not None
        assert v1 not in alice._session.held()
        statuses = {v.id: v.status for v in await alice.get_kek_versions()}
        assert statuses == {v1: "destroyed", v2: "active"}
        state = await alice.verified_state()
        assert state is not None and state.versions[v1] == "destroyed"
        await alice.log("shipping", {"n": 3})  # the active version works on
        logs = await alice.list_logs()
        assert logs == [CatalogueLog("shipping", (v2,))]
    await admin.close()


async def test_a_member_drops_the_key_of_a_version_the_chain_shows_destroyed(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
) -> None:
    """A server that keeps serving the blob of a destroyed version does not bring its key
    back: the member goes by the verified chain."""
    admin = AsyncNeuralLogClient(server_url)
    result = await admin.bootstrap_tenant(
        await new_tenant(TENANT),
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        insecure_allow_weak=True,
    )
    v1 = result.version.id
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    async with alice:
        blob = raw_redis.hget(keyspace.user_blobs(TENANT, "alice"), v1)
        await admin.rotate_kek("scheduled")
        await admin.destroy_kek_version(v1)
        assert blob is not None
        raw_redis.hset(keyspace.user_blobs(TENANT, "alice"), v1, blob)  # served again
        await alice.refresh()
        assert alice._session is not None and v1 not in alice._session.held()
    await admin.close()
