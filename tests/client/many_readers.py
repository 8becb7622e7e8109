"""A tenant with thousands of readers, made fast: each reader has its own X25519 key pair
(HPKE needs one per recipient), certified with the tenant signing key and enrolled by a
real signed ``member.enrol`` link, written straight into storage instead of one HTTP
enrolment each (which would take minutes for 12,000 users)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from neurallog import AsyncNeuralLogClient
from neurallog.client import _keys
from neurallog.client.models import b64e
from neurallog.client.tenant_chain import fingerprint
from neurallog.crypto.chain import Link, sign_link
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.storage import keyspace
from neurallog.storage.connection import connect

CREATED_AT = "2026-01-01T00:00:00Z"


@dataclass
class Readers:
    """New members' key pairs, and the storage writes and chain links that enrol them."""

    pairs: dict[str, UserKeyPair] = field(default_factory=dict)
    users: dict[str, dict[str, str]] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)


def make_readers(
    admin: AsyncNeuralLogClient, count: int, prefix: str, *, seq: int, prev: bytes
) -> Readers:
    """``count`` members with their own certified keys and signed links after ``seq-1``."""
    session = admin._session
    assert session is not None and session.hierarchy is not None
    tenant, signing_key = session.tenant_id, session.hierarchy.signing_key
    out = Readers()
    for n in range(count):
        uid = f"{prefix}{n:05d}"
        pair = UserKeyPair.generate()
        record = _keys.certify_public_key(signing_key, pair.public, tenant_id=tenant, user_id=uid)
        signed = _enrol(signing_key, tenant, seq, prev, uid, fingerprint(record))
        seq, prev = seq + 1, signed[1]
        out.links.append(signed[0])
        out.pairs[uid] = pair
        out.users[uid] = {
            "user_id": uid,
            "role": "member",
            "state": "active",
            "public_key": b64e(record),
            "created_at": CREATED_AT,
        }
    return out


def _enrol(
    key: Ed25519PrivateKey, tenant: str, seq: int, prev: bytes, uid: str, print_: str
) -> tuple[str, bytes]:
    body = {"user_id": uid, "role": "member", "fingerprint": print_}
    signed = sign_link(Link(tenant, seq, prev, 1_700_000_000, "member.enrol", body), key)
    return signed.to_json(), signed.link.link_hash()


def write_readers(pipe: Any, tenant: str, readers: Readers) -> None:
    """Queue the writes of ``readers`` on a (sync or async) Redis pipeline."""
    for uid, row in readers.users.items():
        pipe.sadd(keyspace.users(tenant), uid)
        pipe.zadd(keyspace.users_order(tenant), {f"{CREATED_AT} {uid}": 0})
        pipe.hset(keyspace.user(tenant, uid), mapping=row)
    for start in range(0, len(readers.links), 1000):
        pipe.rpush(keyspace.chain(tenant), *readers.links[start : start + 1000])


async def add_readers(
    admin: AsyncNeuralLogClient, redis_url: str, count: int, *, prefix: str = "r"
) -> dict[str, UserKeyPair]:
    """Enrol ``count`` members directly in storage with their chain links; returns each
    one's key pair (to open the blobs sealed to them)."""
    state = await admin.verified_state()
    assert state is not None
    readers = make_readers(admin, count, prefix, seq=state.head.seq + 1, prev=state.head.hash)
    tenant = admin._session.tenant_id if admin._session else ""
    client = connect(redis_url)
    try:
        users = list(readers.users.items())
        for start in range(0, len(users), 1000):
            pipe: Any = client.pipeline(transaction=False)
            write_readers(pipe, tenant, Readers(users=dict(users[start : start + 1000])))
            await pipe.execute()
        pipe = client.pipeline(transaction=False)
        write_readers(pipe, tenant, Readers(links=readers.links))
        await pipe.execute()
    finally:
        await client.aclose()
    return readers.pairs
