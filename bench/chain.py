"""Tenant chain benchmark: verify a 1,000-link chain from scratch, and extend by one link.

Each measurement parses the links from their JSON form first, as a client would.

    python bench/chain.py           # full run, with the live part
    python bench/chain.py --quick   # short measurements, for CI
    python bench/chain.py --no-live # the in-process part only

The live part starts an embedded Redis and ``neurallog serve`` and measures what keeping
the chain current costs a client per request: a sync that finds no new link (one
``GET /api/chain`` that returns the head link, which is compared, not verified again),
against an authenticated ``GET /api/tenant`` through the same client (and a bare
``GET /healthz``) on the same server in the same run.

Both are printed as multiples of one Ed25519 verification measured in the same run, so
the figures say what the chain's own checks (canonical JSON, hashing, the state machine)
cost on top of the signatures and survive a faster or slower machine. The goal
(docs/formats.md): extend-by-one within 2x of one verification, and a full replay within
2x of 1,000 verifications. The exit status is 0 either way; the verdict is printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
from crypto import rates  # bench/crypto.py
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from neurallog.crypto.chain import GENESIS_PREV, Link, SignedLink, sign_link, verify_chain

TENANT = "bench-tenant"
LINKS = 1000
PROFILE = {"kdf": "argon2id", "kdf_params": {"time_cost": 3}, "kem": "x25519", "cipher": "c"}


def build_chain(key: Ed25519PrivateKey, count: int) -> list[SignedLink]:
    """A realistic mix: mostly enrolments, a version create or rotation every 50 links."""
    links: list[SignedLink] = []
    prev = GENESIS_PREV
    for seq in range(count):
        if seq == 0:
            kind, body = "profile", dict(PROFILE)
        elif seq % 50 == 0:
            kind, body = "version.create", {"version_id": str(uuid.UUID(int=seq, version=4))}
        else:
            fp = f"{seq:064x}"
            kind, body = "member.enrol", {"user_id": f"u{seq}", "role": "member", "fingerprint": fp}
        signed = sign_link(Link(TENANT, seq, prev, 1_767_225_600 + seq, kind, body), key)
        links.append(signed)
        prev = signed.link.link_hash()
    return links


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short measurements (CI)")
    parser.add_argument("--no-live", action="store_true", help="skip the live server part")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 1.5
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    # Fresh links parsed from JSON on every call, as a client receives them: nothing
    # (canonical bytes, hashes) is cached from one measurement round to the next.
    texts = [signed.to_json() for signed in build_chain(key, LINKS + 1)]
    head, last = texts[:LINKS], texts[LINKS]
    state = verify_chain(map(SignedLink.from_json, head), pub, TENANT)
    public, message = key.public_key(), b"x" * 300
    signature = key.sign(message)

    one, full, extend = rates(
        [
            lambda: public.verify(signature, message),
            lambda: verify_chain(map(SignedLink.from_json, head), pub, TENANT),
            lambda: state.extend([SignedLink.from_json(last)]),
        ],
        seconds,
    )
    full_ratio, extend_ratio = one / full, one / extend
    print(f"== tenant chain ({LINKS} links) ==")
    print(f"one Ed25519 verification      {1e6 / one:10.1f} us")
    print(f"verify {LINKS} links from scratch {1e3 / full:8.1f} ms = {full_ratio:7.1f} x one")
    print(f"extend by one link            {1e6 / extend:10.1f} us = {extend_ratio:7.2f} x one")
    ok = extend_ratio <= 2.0 and full_ratio <= 2.0 * LINKS
    print("verdict:", "goal met" if ok else "goal missed")
    if not args.no_live:
        measure_live(1e6 / one, 200 if args.quick else 1000)
    return 0


def _per_call_us(call: object, count: int) -> float:
    assert callable(call)
    call()  # warm
    start = time.perf_counter()
    for _ in range(count):
        call()
    return (time.perf_counter() - start) / count * 1e6


def measure_live(verify_us: float, count: int) -> None:
    """Per-request cost of keeping the chain current, through the real client and server."""
    from server import free_port, stop, wait_http  # bench/server.py

    from neurallog import NeuralLogClient
    from neurallog.server.embedded import EmbeddedRedis
    from neurallog.storage.connection import connect
    from neurallog.storage.tenants import create_tenant

    with tempfile.TemporaryDirectory() as tmp, EmbeddedRedis(Path(tmp)) as redis_server:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "NEURALLOG_REDIS_URL": redis_server.url}
        server = subprocess.Popen(
            [sys.executable, "-m", "neurallog.cli", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            wait_http(f"{base}/readyz", server)

            async def token() -> str:
                client = connect(redis_server.url)
                try:
                    return await create_tenant(client, "bench-chain")
                finally:
                    await client.aclose()

            import asyncio

            with NeuralLogClient(base, chain_heads="memory") as admin:
                admin.bootstrap_tenant(asyncio.run(token()))
                for n in range(20):
                    admin.enroll_user(f"user-{n}")
                member_key = admin.enroll_user("bench-member")
            with NeuralLogClient(base, api_key=member_key, chain_heads="memory") as member:
                state = member.verified_state()
                assert state is not None
                with httpx.Client(base_url=base) as http:
                    bare = _per_call_us(lambda: http.get("/healthz"), count)
                plain = _per_call_us(member.get_tenant, count)
                sync = _per_call_us(member.verified_state, count)
        finally:
            stop(server)
    extra = sync - plain
    print(f"\n== keeping the chain current (live, {state.head.seq + 1} links) ==")
    print(f"bare GET /healthz (httpx)       {bare:10.1f} us")
    print(f"client GET /api/tenant          {plain:10.1f} us (authenticated, same client)")
    print(f"chain sync, no new link         {sync:10.1f} us = {sync / plain:5.2f} x the client GET")
    ratio = extra / verify_us
    print(f"cost over the client GET        {extra:10.1f} us = {ratio:5.2f} x one verification")


if __name__ == "__main__":
    raise SystemExit(main())
