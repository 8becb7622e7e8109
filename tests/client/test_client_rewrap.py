"""Rewrap with the real client over the real server and Redis.

Entries of older versions are re-encrypted under the active version: readers see the same
data, seq, time, ids and writer marks; a dry run changes nothing; writers, readers and a
second rewrap run beside it; the emptied version can then be destroyed, after which a
removed user holding the old Operational KEK and a full Redis dump opens nothing.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
import redis
from client_live import FAST_KDF, Recorder
from test_client_destroy_version import dump, mentions
from zk_scan import encodings, redis_dump

from neurallog import AsyncNeuralLogClient, RewrapProgress, RewrapReport
from neurallog.client import LogEntry
from neurallog.crypto.envelope import EnvelopeOpener
from neurallog.crypto.working import WorkingKeys
from neurallog.errors import (
    AuthenticationError,
    ConflictError,
    DecryptionError,
    FormatError,
    NoAccessToVersionError,
    ServerIntegrityError,
)
from neurallog.storage import keyspace

TENANT = "rewrap-corp"
PHRASE = "correct horse battery staple rewrap edition"


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


async def _tenant(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> tuple[AsyncNeuralLogClient, str]:
    admin = AsyncNeuralLogClient(server_url)
    result = await admin.bootstrap_tenant(
        await new_tenant(TENANT),
        recovery_phrase=PHRASE,
        kdf_params=FAST_KDF,
        insecure_allow_weak=True,
    )
    return admin, result.version.id


async def read_all(client: AsyncNeuralLogClient, name: str, limit: int = 7) -> list[LogEntry]:
    out: list[LogEntry] = []
    cursor: str | None = None
    while True:
        page = await client.get_logs(name, limit=limit, cursor=cursor, strict=True)
        out += page.entries
        cursor = page.cursor
        if cursor is None:
            return out


def seen(entries: list[LogEntry]) -> list[tuple[Any, ...]]:
    """What a reader sees of each entry, except the version it is encrypted under."""
    return [
        (e.id, e.data, e.seq, e.time, e.logged_at, e.writer, e.counter, e.chain_seq)
        for e in entries
    ]


def stream_len(raw: redis.Redis[Any], keys: WorkingKeys, name: str) -> int:
    return int(raw.xlen(keyspace.log_stream(TENANT, keys.stream_id(name))))


async def test_rewrap_keeps_what_readers_see_and_empties_the_old_version(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
) -> None:
    admin, v1 = await _tenant(server_url, new_tenant)
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    async with alice:
        await alice.log_batch("orders", [{"n": i} for i in range(23)])
        await alice.log_batch("billing", ["text", b"\x00bytes", [1, 2]])
        v2 = (await admin.rotate_kek("scheduled")).version.id
        await alice.log_batch("orders", [{"n": 100 + i} for i in range(5)])
        v3 = (await admin.rotate_kek("again")).version.id
        await alice.log("orders", {"n": 200})
        before = {name: await read_all(alice, name) for name in ("orders", "billing")}
        assert len(before["orders"]) == 29

        calls: list[RewrapProgress] = []
        dry = await alice.rewrap(dry_run=True, progress=calls.append)
        assert dry == RewrapReport((v1, v2), 2, 0, 31, True)
        assert {(c.log, c.version, c.done, c.total) for c in calls} == {
            ("orders", v1, 0, 23),
            ("billing", v1, 0, 3),
            ("orders", v2, 0, 5),
        }
        assert {n: await read_all(alice, n) for n in before} == before  # unchanged

        calls.clear()
        report = await alice.rewrap(chunk=4, progress=calls.append)
        assert report == RewrapReport((v1, v2), 2, 31, 31, False)
        assert calls[-1].done == calls[-1].total
        assert [c.done for c in calls if (c.log, c.version) == ("orders", v1)] == [
            0, 4, 8, 12, 16, 20, 23
        ]  # fmt: skip
        after = {name: await read_all(alice, name) for name in before}
        for name in before:
            assert seen(after[name]) == seen(before[name])
            assert {e.version_id for e in after[name]} == {v3}
        assert after["billing"][0].data == [1, 2] and after["billing"][1].data == b"\x00bytes"
        for version in (v1, v2):
            keys = WorkingKeys(TENANT, version, admin._need_session().operational_kek(version))
            assert stream_len(raw_redis, keys, "orders") == 0
        # a second run finds nothing left; an admin reads the same
        assert await alice.rewrap() == RewrapReport((v1, v2), 0, 0, 0, False)
        assert seen(await read_all(admin, "orders", limit=100)) == seen(before["orders"])
        # the rewrapped streams are in the catalogue of the active version
        logs = await alice.list_logs()
        assert {(log.name, log.version_ids) for log in logs} == {
            ("orders", (v1, v2, v3)),
            ("billing", (v1, v3)),
        }
        await admin.destroy_kek_version(v1)
        await admin.destroy_kek_version(v2)
        assert seen(await read_all(alice, "orders")) == seen(before["orders"])
        await admin.delete_log("orders")
        assert await read_all(alice, "orders") == []
    await admin.close()


async def test_destroy_is_refused_until_the_rewrap_and_a_removed_user_reads_nothing(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
) -> None:
    admin, v1 = await _tenant(server_url, new_tenant)
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    bob = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("bob"))
    async with alice, bob:
        await alice.log_batch("orders", [{"secret": i} for i in range(12)])
        assert bob._session is not None
        kept = bytes(bob._session.operational_kek(v1))  # bob keeps it, then is removed
        v2 = (await admin.rotate_kek("remove bob", remove_users=["bob"])).version.id
        stolen = EnvelopeOpener(TENANT, {v1: WorkingKeys(TENANT, v1, kept).data_key})
        assert len(opened_entries(dump(raw_redis), stolen)) == 12

        with pytest.raises(ConflictError) as refused:
            await admin.destroy_kek_version(v1)
        assert refused.value.extensions["entries"] == 12
        with pytest.raises(AuthenticationError):  # bob was removed: no rewrap, no read
            await bob.rewrap([v1])

        await alice.rewrap([v1])  # a member holding both versions
        assert len(await read_all(alice, "orders")) == 12
        await admin.destroy_kek_version(v1)
        after = dump(raw_redis)
        assert opened_entries(after, stolen) == []
        assert mentions(after, v1) == {
            keyspace.version(TENANT, v1).encode(),
            keyspace.versions(TENANT).encode(),
            keyspace.chain(TENANT).encode(),
            keyspace.audit(TENANT).encode(),
        }
        # the entries are all there, under v2, for whoever holds v2
        page = await alice.get_logs("orders", limit=100, strict=True)
        assert sorted(e.data["secret"] for e in page.entries) == list(range(12))  # type: ignore[index]
        assert {e.version_id for e in page.entries} == {v2}
    await admin.close()


async def test_rewrap_beside_writers_readers_and_another_rewrap(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
) -> None:
    """Two rewraps of the same versions, a writer on the active version and a reader
    paging all along: every entry is read exactly once by the reader after, the reader
    during never fails and the two reports together moved every entry once."""
    admin, _v1 = await _tenant(server_url, new_tenant)
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    carol = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("carol"))
    async with alice, carol:
        await alice.log_batch("orders", [{"old": i} for i in range(300)])
        await admin.rotate_kek("scheduled")
        written: list[int] = []
        stop = asyncio.Event()

        async def writer() -> None:
            n = 0
            while not stop.is_set():
                await carol.log("orders", {"new": n})
                written.append(n)
                n += 1
                await asyncio.sleep(0)

        reads = 0

        async def reader() -> None:
            nonlocal reads
            while not stop.is_set():
                entries = await read_all(alice, "orders", limit=50)
                ids = [e.id for e in entries]
                assert len(ids) == len(set(ids))
                olds = [e.data["old"] for e in entries if "old" in e.data]  # type: ignore[operator,index]
                assert sorted(olds) == list(range(300))
                reads += 1

        async def rewraps() -> list[RewrapReport]:
            try:
                return list(await asyncio.gather(alice.rewrap(chunk=7), admin.rewrap(chunk=11)))
            finally:
                stop.set()

        tasks = await asyncio.gather(writer(), reader(), rewraps())
        reports = tasks[2]
        assert reports is not None
        assert sum(r.moved for r in reports) == 300
        assert reads >= 1
        entries = await read_all(alice, "orders", limit=100)
        olds = sorted(e.data["old"] for e in entries if "old" in e.data)  # type: ignore[operator,index]
        news = sorted(e.data["new"] for e in entries if "new" in e.data)  # type: ignore[operator,index]
        assert olds == list(range(300))
        assert news == written
        seqs = [e.seq for e in entries]
        assert len(set(seqs)) == len(seqs)
    await admin.close()


async def test_rewrap_sends_and_stores_no_plaintext_name_or_key(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
    recorder: Recorder,
) -> None:
    """Zero knowledge through a rewrap: no entry plaintext, log name or KEK in any request
    or anywhere in Redis, before and after (the rewrapped catalogue record included)."""
    admin, v1 = await _tenant(server_url, new_tenant)
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    secrets = [b"rewrap-plaintext-canary-%d" % i for i in range(20)]
    name = "payroll-log-name-canary"
    async with alice:
        await alice.log_batch(name, [s.decode() for s in secrets])
        v2 = (await admin.rotate_kek("scheduled")).version.id
        start = len(recorder.requests)
        report = await alice.rewrap(chunk=6)
        assert report.moved == 20
        assert len(recorder.requests) - start >= 4  # the chunks really went to the server
        session = alice._need_session()
        keks = [session.operational_kek(v) for v in (v1, v2)]
        haystacks = redis_dump(raw_redis) + recorder.bodies()
        haystacks += [f"{m} {p}".encode() for m, p, _, _ in recorder.requests]
        for secret in [*secrets, name.encode(), *keks]:
            for form in encodings(secret):
                assert not any(form in hay for hay in haystacks), secret
        page = await alice.get_logs(name, limit=100, strict=True)
        assert sorted(e.data for e in page.entries) == sorted(s.decode() for s in secrets)  # type: ignore[type-var]
    await admin.close()


async def test_a_server_tampering_with_rewrapped_entries_is_caught(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    raw_redis: redis.Redis[Any],
) -> None:
    """What holds after a rewrap (docs/threat-model.md): a rewrapped entry withheld shows
    as a gap in its writer's counters; one moved to another stream fails to authenticate;
    the original put back beside its rewrapped copy is shown once (same seq and id), and
    put back under another seq it is a replay."""
    admin, v1 = await _tenant(server_url, new_tenant)
    alice = AsyncNeuralLogClient(server_url, api_key=await admin.enroll_user("alice"))
    async with alice:
        await alice.log_batch("orders", [{"n": i} for i in range(6)])
        await alice.log_batch("billing", [{"n": i} for i in range(2)])
        old_key = keyspace.log_stream(
            TENANT, alice._need_session().working_keys(v1).stream_id("orders")
        )
        originals = raw_redis.xrange(old_key)
        v2 = (await admin.rotate_kek("scheduled")).version.id
        await alice.rewrap()
        keys = alice._need_session().working_keys(v2)
        new_key = keyspace.log_stream(TENANT, keys.rewrap_stream_id(v1, "orders"))
        rewrapped = raw_redis.xrange(new_key)
        assert [seq for seq, _ in rewrapped] == [seq for seq, _ in originals]
        honest = seen(await read_all(alice, "orders"))

        # the original put back (a restored dump): shown once, the same entry
        seq, fields = originals[2]
        raw_redis.delete(old_key)  # the emptied stream remembers its last id: start again
        raw_redis.xadd(old_key, fields, id=seq)
        assert seen(await read_all(alice, "orders")) == honest
        # under another seq: a replay the writer's counter shows
        raw_redis.delete(old_key)
        raw_redis.xadd(old_key, fields, id="1-1")
        with pytest.raises(ServerIntegrityError) as replayed:
            await read_all(alice, "orders")
        assert replayed.value.reason == "replayed"
        raw_redis.xdel(old_key, "1-1")

        # a rewrapped entry withheld: a gap in its writer's counters
        seq, fields = rewrapped[3]
        raw_redis.xdel(new_key, seq)
        with pytest.raises(ServerIntegrityError) as withheld:
            await read_all(alice, "orders")
        assert withheld.value.reason == "withheld"
        # ... and moved to another log's rewrapped stream: it fails to authenticate
        other = keyspace.log_stream(TENANT, keys.rewrap_stream_id(v1, "billing"))
        raw_redis.xadd(other, fields)
        with pytest.raises(DecryptionError):
            await read_all(alice, "billing")
    await admin.close()
