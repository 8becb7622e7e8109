"""A tenant with thousands of readers, made fast: each reader has its own X25519 key pair
(HPKE needs one per recipient), certified with the tenant signing key and enrolled by a
real signed ``member.enrol`` link, written straight into storage instead of one HTTP
enrolment each (which would take minutes for 12,000 users)."""

from __future__ import annotations

from typing import Any

from neurallog import AsyncNeuralLogClient
from neurallog.client import _keys
from neurallog.client.models import b64e
from neurallog.client.tenant_chain import fingerprint
from neurallog.crypto.chain import Link, sign_link
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.storage import keyspace
from neurallog.storage.connection import connect

CREATED_AT = "2026-01-01T00:00:00Z"


async def add_readers(
    admin: AsyncNeuralLogClient, redis_url: str, count: int, *, prefix: str = "r"
) -> dict[str, UserKeyPair]:
    """Enrol ``count`` members directly in storage with their chain links; returns each
    one's key pair (to open the blobs sealed to them)."""
    session = admin._session
    assert session is not None and session.hierarchy is not None
    state = await admin.verified_state()
    assert state is not None
    tenant, signing_key = session.tenant_id, session.hierarchy.signing_key
    seq, prev = state.head.seq + 1, state.head.hash
    pairs: dict[str, UserKeyPair] = {}
    links: list[str] = []
    client = connect(redis_url)
    try:
        pipe: Any = client.pipeline(transaction=False)
        for n in range(count):
            uid = f"{prefix}{n:05d}"
            pair = UserKeyPair.generate()
            record = _keys.certify_public_key(
                signing_key, pair.public, tenant_id=tenant, user_id=uid
            )
            body = {"user_id": uid, "role": "member", "fingerprint": fingerprint(record)}
            signed = sign_link(
                Link(tenant, seq, prev, 1_700_000_000, "member.enrol", body), signing_key
            )
            seq, prev = seq + 1, signed.link.link_hash()
            links.append(signed.to_json())
            pairs[uid] = pair
            pipe.sadd(keyspace.users(tenant), uid)
            pipe.zadd(keyspace.users_order(tenant), {f"{CREATED_AT} {uid}": 0})
            pipe.hset(
                keyspace.user(tenant, uid),
                mapping={
                    "user_id": uid,
                    "role": "member",
                    "state": "active",
                    "public_key": b64e(record),
                    "created_at": CREATED_AT,
                },
            )
            if len(pipe) >= 3000:
                await pipe.execute()
                pipe = client.pipeline(transaction=False)
        for start in range(0, len(links), 1000):
            pipe.rpush(keyspace.chain(tenant), *links[start : start + 1000])
        await pipe.execute()
    finally:
        await client.aclose()
    return pairs
