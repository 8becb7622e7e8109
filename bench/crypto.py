"""Crypto core benchmark: hierarchy KDFs, entry envelopes vs raw AES-GCM and Tink, KEK blobs.

    python bench/crypto.py           # full run (a few seconds per measurement)
    python bench/crypto.py --quick   # short measurements, for CI
    python bench/crypto.py --cipher aes-256-gcm-siv   # envelopes under another cipher

Goals (docs/formats.md): envelope >= Tink's ops/s at 256 B and 1 KiB, and >= 80% of raw
AES-256-GCM at 64 KiB. The exit status is 0 either way; the verdict is printed.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from neurallog.crypto.blobs import open_blob, seal_blob
from neurallog.crypto.envelope import EnvelopeOpener, EnvelopeSealer
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.crypto.working import new_entry_id, stream_id

SIZES = (256, 1024, 64 * 1024)
BATCH = 100
TENANT, VERSION = "bench-tenant", "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b"
MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def rates(fns: list[Callable[[], object]], seconds: float) -> list[float]:
    """Operations per second of each of ``fns``, measured in interleaved rounds.

    The machine may be shared: every contender runs once per round, in turn, and keeps
    its best round, so a burst of load hits them alike and the ratios stay meaningful.
    """
    batches = []
    for fn in fns:  # calibrate a batch of ~2 ms
        n = 1
        while True:
            start = time.perf_counter()
            for _ in range(n):
                fn()
            if time.perf_counter() - start > 0.002:
                break
            n *= 2
        batches.append(n)
    best = [0.0] * len(fns)
    deadline = time.perf_counter() + seconds * len(fns)
    rounds = 0
    while rounds < 5 or time.perf_counter() < deadline:
        rounds += 1
        for i, fn in enumerate(fns):
            n = batches[i]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            best[i] = max(best[i], n / (time.perf_counter() - start))
    return best


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Operations per second of one function (best round)."""
    return rates([fn], seconds)[0]


def once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_hierarchy() -> None:
    print("\n== hierarchy derivation (default KDF parameters) ==")
    phrase = "correct horse battery staple"
    cases: list[tuple[str, Callable[[], object]]] = [
        (kdf, lambda kdf=kdf: KeyHierarchy.from_recovery_phrase(TENANT, phrase, kdf=kdf))
        for kdf in ("argon2id", "pbkdf2-sha256", "scrypt", "neurallog-legacy")
    ]
    cases.append(("bip39 mnemonic", lambda: KeyHierarchy.from_mnemonic(TENANT, MNEMONIC)))
    for name, fn in cases:
        print(f"  {name:<18} {once(fn) * 1000:9.1f} ms")
    h = KeyHierarchy.from_mnemonic(TENANT, MNEMONIC)
    t = once(lambda: h.working_keys(VERSION))
    print(f"  {'op KEK + working keys':<18} {t * 1e6:9.1f} us")


def bench_envelope(seconds: float, cipher: str = "aes-256-gcm") -> bool:
    import tink
    from tink import aead

    aead.register()
    tink_aead = tink.new_keyset_handle(aead.aead_key_templates.AES256_GCM).primitive(aead.Aead)
    data_key = os.urandom(32)
    sealer = EnvelopeSealer(TENANT, VERSION, data_key, cipher=cipher)
    opener = EnvelopeOpener(TENANT, {VERSION: data_key})
    raw = AESGCM(os.urandom(32))
    sid = stream_id(os.urandom(32), "app/requests")
    aad = os.urandom(96)  # about the size of the envelope's AAD

    print(f"\n== entry envelope ({cipher}) vs raw AES-256-GCM (random nonce) vs Tink AES256_GCM ==")
    print("   env   = one seal()/open() call per entry")
    print("   batch = seal_many()/open_many() of 100 entries (4 at 64 KiB) of one stream;")
    print("           at 64 KiB enc: seal_buffer(), which skips the copy behind the header")
    print(f"  {'size':>6} {'op':<4} {'env/s':>11} {'batch/s':>11} {'raw/s':>11} {'tink/s':>11}"
          f" {'env/raw':>8} {'env/tink':>9} {'bat/raw':>8} {'bat/tink':>9}")  # fmt: skip
    verdicts: list[tuple[str, bool]] = []
    for size in SIZES:
        pt = os.urandom(size)
        batch = BATCH if size <= 1024 else 4  # 100 x 64 KiB would measure the allocator
        ids = [new_entry_id() for _ in range(batch)]
        items = [(i, pt) for i in ids]
        pairs = list(zip(ids, sealer.seal_many(sid, items), strict=True))
        eid, env = pairs[0]
        nonce = os.urandom(12)
        raw_ct = raw.encrypt(nonce, pt, aad)
        tink_ct = tink_aead.encrypt(pt, aad)
        if size <= 1024:

            def enc_batch(items: list[tuple[str, bytes]] = items) -> object:
                return sealer.seal_many(sid, items)

        else:
            batch = 1

            def enc_batch(pt: bytes = pt, eid: str = eid) -> object:  # type: ignore[misc]
                return sealer.seal_buffer(sid, eid, pt)

        enc = rates(
            [
                lambda pt=pt, eid=eid: sealer.seal(sid, eid, pt),
                enc_batch,
                lambda pt=pt: raw.encrypt(os.urandom(12), pt, aad),
                lambda pt=pt: tink_aead.encrypt(pt, aad),
            ],
            seconds,
        )
        enc[1] *= batch
        batch = len(pairs)
        dec = rates(
            [
                lambda env=env, eid=eid: opener.open(env, stream_id=sid, entry_id=eid),
                lambda pairs=pairs: opener.open_many(sid, pairs),
                lambda c=raw_ct, n=nonce: raw.decrypt(n, c, aad),
                lambda c=tink_ct: tink_aead.decrypt(c, aad),
            ],
            seconds,
        )
        dec[1] *= batch
        for op, (e, b, r, t) in (("enc", enc), ("dec", dec)):
            print(f"  {size:>6} {op:<4} {e:>11,.0f} {b:>11,.0f} {r:>11,.0f} {t:>11,.0f}"
                  f" {e / r:>8.2f} {e / t:>9.2f} {b / r:>8.2f} {b / t:>9.2f}")  # fmt: skip
            if size <= 1024:
                verdicts.append((f"{size} B {op} >= Tink", max(e, b) >= t))
            else:
                verdicts.append((f"{size} B {op} >= 80% raw", max(e, b) >= 0.8 * r))
    for goal, met in verdicts:
        print(f"  goal {goal:<22} {'met' if met else 'NOT met'} (best of env/batch)")
    return all(met for _, met in verdicts)


def bench_blobs(seconds: float) -> None:
    print("\n== KEK blob: HPKE seal + Ed25519 sign / verify + HPKE open ==")
    h = KeyHierarchy.from_recovery_phrase(
        TENANT, "p", kdf="pbkdf2-sha256", params={"iterations": 1}
    )
    kek, signing_key, signing_pub = h.operational_kek(VERSION), h.signing_key, h.signing_public_key
    for kem in ("x25519", "mlkem768-x25519"):
        pair = UserKeyPair.generate(kem)
        ids = {"tenant_id": TENANT, "user_id": "alice", "version_id": VERSION}

        def seal(pair: UserKeyPair = pair, ids: dict[str, str] = ids) -> bytes:
            return seal_blob(kek, signing_key=signing_key, recipient=pair.public, **ids)

        blob = seal()

        def open_(pair: UserKeyPair = pair, blob: bytes = blob, ids: dict[str, str] = ids) -> bytes:
            return open_blob(blob, signing_public_key=signing_pub, key_pair=pair, **ids)

        s, o = rate(seal, seconds), rate(open_, seconds)
        print(f"  {kem:<16} {len(blob):>5} B  seal {1e6 / s:8.1f} us  open {1e6 / o:8.1f} us")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short measurements (CI)")
    parser.add_argument("--cipher", default="aes-256-gcm", help="the envelopes' cipher")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 1.5
    bench_hierarchy()
    bench_envelope(seconds, args.cipher)
    bench_blobs(seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
