"""The libsodium-based HPKE sealing (``neurallog.crypto.hpke_x25519``) against RFC 9180.

Known answers: RFC 9180 Appendix A.1.1 (the vector's ephemeral key, so the output must
match byte for byte), and for AES-256-GCM the test suite's own independent HPKE (built on
``cryptography``'s X25519 and checked against the same appendix). Independent opening:
``cryptography``'s HPKE opens every AEAD's output. Refusals: a small-order recipient key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from neurallog.crypto import hpke_x25519
from tests.crypto.test_crypto_vectors import encap, key_schedule

VECTOR: Any = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "hpke_rfc9180_a1.json").read_text()
)
PYCA_AEAD = {
    "aes-128-gcm": hpke.AEAD.AES_128_GCM,
    "aes-256-gcm": hpke.AEAD.AES_256_GCM,
    "chacha20-poly1305": hpke.AEAD.CHACHA20_POLY1305,
}


def test_rfc9180_a1_base_mode_first_encryption() -> None:
    h = {k: bytes.fromhex(v) for k, v in VECTOR.items() if isinstance(v, str) and k != "source"}
    enc = VECTOR["encryption"]
    out = hpke_x25519.seal(
        h["pkRm"],
        bytes.fromhex(enc["pt"]),
        info=h["info"],
        aead="aes-128-gcm",
        aad=bytes.fromhex(enc["aad"]),
        ephemeral=h["skEm"],
    )
    assert out == h["enc"] + bytes.fromhex(enc["ct"])


def test_aes_256_gcm_matches_the_independent_implementation() -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    recipient = X25519PrivateKey.generate().public_key().public_bytes_raw()
    ephemeral = os.urandom(32)
    info, plaintext = b"info of one blob", os.urandom(32)
    shared, enc = encap(ephemeral, recipient)
    key, nonce, _ = key_schedule(shared, info, 0x0002, 32)
    expected = enc + AESGCM(key).encrypt(nonce, plaintext, b"")
    out = hpke_x25519.seal(recipient, plaintext, info=info, ephemeral=ephemeral)
    assert out == expected


@pytest.mark.parametrize("aead", sorted(PYCA_AEAD))
def test_cryptography_opens_what_it_seals(aead: str) -> None:
    private = X25519PrivateKey.generate()
    plaintext, info = os.urandom(32), b"neurallog blob info"
    sealed = hpke_x25519.seal(
        private.public_key().public_bytes_raw(), plaintext, info=info, aead=aead
    )
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, PYCA_AEAD[aead])
    assert suite.decrypt(sealed, private, info=info) == plaintext
    with pytest.raises(InvalidTag):  # the info is bound
        suite.decrypt(sealed, private, info=info + b"x")
    again = hpke_x25519.seal(
        private.public_key().public_bytes_raw(), plaintext, info=info, aead=aead
    )
    assert again[:32] != sealed[:32]  # a fresh ephemeral key per seal


def test_small_order_keys_and_bad_arguments_are_refused() -> None:
    for point in (bytes(32), (1).to_bytes(32, "little")):  # all-zero shared secrets
        with pytest.raises(ValueError, match="small order"):
            hpke_x25519.seal(point, b"k" * 32, info=b"")
    with pytest.raises(ValueError, match="32 bytes"):
        hpke_x25519.seal(b"short", b"k", info=b"")
    with pytest.raises(ValueError, match="unknown HPKE AEAD"):
        hpke_x25519.seal(bytes(range(32)), b"k", info=b"", aead="rot13")


# RFC 4231 (HMAC-SHA256 test vectors): test cases 1, 2 and 3. Its case 6 (a 131-byte key,
# hashed first) is what the schedule's 32-byte keys never need: refused.
RFC4231 = [
    (
        bytes([0x0B] * 20),
        b"Hi There",
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    ),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        bytes([0xAA] * 20),
        bytes([0xDD] * 50),
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ),
]


@pytest.mark.parametrize(("key", "message", "expected"), RFC4231)
def test_the_schedules_hmac_meets_rfc_4231(key: bytes, message: bytes, expected: str) -> None:
    assert hpke_x25519._hmac(key, message).hex() == expected
    inner, outer = hpke_x25519._hmac_pads(key)
    assert len(inner) == len(outer) == 64


def test_the_schedules_hmac_refuses_a_key_longer_than_a_block() -> None:
    with pytest.raises(ValueError, match="longer than the SHA-256 block"):
        hpke_x25519._hmac(bytes([0xAA] * 131), b"Test Using Larger Than Block-Size Key")


# --- batches: the X25519 work shared with helper threads ------------------------------------


def _readers(count: int) -> list[X25519PrivateKey]:
    return [X25519PrivateKey.generate() for _ in range(count)]


@pytest.mark.parametrize("helpers", [0, 1, 3])
def test_a_batch_opens_for_each_reader_alone_with_its_own_info(helpers: int) -> None:
    readers = _readers(200)
    plaintext = os.urandom(32)
    items = [
        (r.public_key().public_bytes_raw(), f"info {i}".encode()) for i, r in enumerate(readers)
    ]
    sealed = hpke_x25519.sealer("chacha20-poly1305").many(items, plaintext, helpers=helpers)
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, PYCA_AEAD["chacha20-poly1305"])
    for i, (reader, blob) in enumerate(zip(readers, sealed, strict=True)):
        assert suite.decrypt(blob, reader, info=f"info {i}".encode()) == plaintext
    # in order: a blob swapped with its neighbour's opens for neither reader
    with pytest.raises(InvalidTag):
        suite.decrypt(sealed[1], readers[0], info=b"info 0")
    assert len({blob[:32] for blob in sealed}) == len(sealed)  # a fresh ephemeral each


def test_the_helpers_do_part_of_the_work_and_the_bytes_are_rfc_9180s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every seal of a batch to the vector's recipient, with the vector's ephemeral key,
    gives the vector's ciphertext byte for byte, whichever thread exchanged it."""
    import threading

    h = {k: bytes.fromhex(v) for k, v in VECTOR.items() if isinstance(v, str) and k != "source"}
    enc = VECTOR["encryption"]
    exchange = hpke_x25519._exchange
    threads: list[int] = []

    def vector_exchange(recipient: bytes, secret_e: bytes | None = None) -> tuple[bytes, bytes]:
        threads.append(threading.get_ident())
        return exchange(recipient, h["skEm"])  # the real exchange, with the vector's key

    monkeypatch.setattr(hpke_x25519, "_exchange", vector_exchange)
    items = [(h["pkRm"], h["info"])] * 400
    out = hpke_x25519.sealer("aes-128-gcm").many(
        items, bytes.fromhex(enc["pt"]), aad=bytes.fromhex(enc["aad"]), helpers=1
    )
    assert set(out) == {h["enc"] + bytes.fromhex(enc["ct"])}
    assert len(threads) == 400 and len(set(threads)) == 2  # the helper did some of them


@pytest.mark.parametrize("where", [0, 150, 299])
def test_a_small_order_key_anywhere_in_a_batch_is_refused(where: int) -> None:
    items = [(r.public_key().public_bytes_raw(), b"") for r in _readers(300)]
    items[where] = (bytes(32), b"")
    with pytest.raises(ValueError, match="small order"):
        hpke_x25519.sealer().many(items, b"k" * 32, helpers=2)
    items[where] = (b"short", b"")
    with pytest.raises(ValueError, match="32 bytes"):
        hpke_x25519.sealer().many(items, b"k" * 32, helpers=2)


def test_sharing_threads_leaves_one_core_to_the_caller() -> None:
    cores = len(os.sched_getaffinity(0))
    assert hpke_x25519.sharing_threads() == max(0, min(hpke_x25519.MAX_HELPERS, cores - 1))
