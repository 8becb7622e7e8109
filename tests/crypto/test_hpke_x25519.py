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
