"""Tenant chain benchmark: verify a 1,000-link chain from scratch, and extend by one link.

Each measurement parses the links from their JSON form first, as a client would.

    python bench/chain.py           # full run
    python bench/chain.py --quick   # short measurements, for CI

Both are printed as multiples of one Ed25519 verification measured in the same run, so
the figures say what the chain's own checks (canonical JSON, hashing, the state machine)
cost on top of the signatures and survive a faster or slower machine. The goal
(docs/formats.md): extend-by-one within 2x of one verification, and a full replay within
2x of 1,000 verifications. The exit status is 0 either way; the verdict is printed.
"""

from __future__ import annotations

import argparse
import uuid

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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
