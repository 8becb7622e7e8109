"""KEK blobs, user keys and key slots: round trips, every-byte tamper, swapped bindings."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurallog.crypto.blobs import (
    MAX_BLOB_SIZE,
    committed_sealer,
    kek_commitment,
    open_blob,
    seal_blob,
)
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.keyslots import open_slot, seal_slot
from neurallog.crypto.userkeys import UserKeyPair, UserPublicKey
from neurallog.errors import CryptoError, DecryptionError, FormatError, SignatureError

V1, V2 = "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b", "9b2e7c10-5d3f-4a61-b8c2-7e9f0a1b2c3d"
KEMS = ["x25519", "mlkem768-x25519"]


def hierarchy(tenant: str = "acme") -> KeyHierarchy:
    return KeyHierarchy.from_recovery_phrase(
        tenant, "blob phrase", kdf="pbkdf2-sha256", params={"iterations": 1}
    )


H = hierarchy()
PAIRS = {kem: UserKeyPair.generate(kem) for kem in KEMS}


def seal(kem: str, **over: Any) -> bytes:
    args: dict[str, Any] = {
        "signing_key": H.signing_key,
        "tenant_id": "acme",
        "user_id": "alice",
        "version_id": V1,
        "recipient": PAIRS[kem].public,
    }
    args.update(over)
    return seal_blob(H.operational_kek(V1), **args)


def open_(blob: bytes, kem: str, **over: Any) -> bytes:
    args: dict[str, Any] = {
        "signing_public_key": H.signing_public_key,
        "tenant_id": "acme",
        "user_id": "alice",
        "version_id": V1,
        "key_pair": PAIRS[kem],
    }
    args.update(over)
    return open_blob(blob, **args)


@pytest.mark.parametrize("kem", KEMS)
def test_blob_round_trip_and_size(kem: str) -> None:
    blob = seal(kem)
    assert len(blob) <= MAX_BLOB_SIZE
    assert open_(blob, kem) == H.operational_kek(V1)
    assert open_(seal(kem, aead="chacha20-poly1305"), kem) == H.operational_kek(V1)


@pytest.mark.parametrize("kem", KEMS)
def test_blob_every_byte_flipped_rejected(kem: str) -> None:
    blob = seal(kem)
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises((FormatError, SignatureError)):
            open_(bytes(bad), kem)


@pytest.mark.parametrize(
    "over",
    [
        {"tenant_id": "globex"},
        {"user_id": "bob"},
        {"version_id": V2},
        {"signing_public_key": hierarchy("other").signing_public_key},
    ],
    ids=["tenant", "user", "version", "signer"],
)
def test_blob_swapped_binding_fails_signature(over: dict[str, Any]) -> None:
    with pytest.raises(SignatureError, match="the server may be tampering"):
        open_(seal("x25519"), "x25519", **over)


def test_blob_for_another_recipient_fails() -> None:
    other = UserKeyPair.generate("x25519")
    blob = seal("x25519", recipient=other.public)
    with pytest.raises(SignatureError):  # fingerprint in the signed message differs
        open_(blob, "x25519")


def test_signature_checked_before_decryption() -> None:
    """Signature first, then decryption: a valid signature with the wrong private key
    (same public key, so same fingerprint) gets past the signature and fails to decrypt."""
    blob = seal("x25519")
    impostor = UserKeyPair(
        "x25519", UserKeyPair.generate("x25519").private_bytes(), PAIRS["x25519"].public
    )
    with pytest.raises(DecryptionError):
        open_(blob, "x25519", key_pair=impostor)


@pytest.mark.parametrize("kem", KEMS)
def test_user_keys_serialise(kem: str) -> None:
    pair = PAIRS[kem]
    again = UserKeyPair.from_bytes(pair.private_bytes())
    assert again.public == pair.public
    assert UserPublicKey.from_bytes(pair.public.raw) == pair.public
    assert 32 <= len(pair.public.raw) <= 2048 and len(pair.public.fingerprint) == 32
    assert pair.private_bytes().hex() not in repr(pair)
    with pytest.raises(FormatError):
        UserPublicKey.from_bytes(pair.public.raw[:-1])
    with pytest.raises(FormatError):
        UserPublicKey.from_bytes(b"\x09" + pair.public.raw[1:])


def test_a_small_order_x25519_key_parses_but_is_never_sealed_to() -> None:
    """Parsing an X25519 key checks its length only (as loading it into ``cryptography``
    did); a key of small order is refused when sealed to, with nothing produced. An
    ML-KEM key whose coefficients are out of range is refused when parsed."""
    small_order = UserPublicKey.from_bytes(b"\x01" + bytes(32))  # the identity point
    seal = committed_sealer(os.urandom(32), tenant_id="acme", version_id="v1")
    with pytest.raises(ValueError, match="small order"):
        seal("alice", small_order)
    hybrid = PAIRS["mlkem768-x25519"].public.raw
    with pytest.raises(FormatError, match="not a valid key"):
        UserPublicKey.from_bytes(hybrid[:1] + b"\xff" * 1184 + hybrid[1185:])


def test_a_batch_of_mixed_kems_opens_for_each_reader_in_order() -> None:
    """``CommittedSealer.many``: the X25519 readers sealed as one batch (helper threads),
    the hybrid ones one by one, every blob where its reader is and opening for them only
    (with the version's commitment)."""
    kek = H.operational_kek(V1)
    commitment = kek_commitment(kek, tenant_id="acme", version_id=V1)
    pairs = [UserKeyPair.generate(KEMS[1] if i % 7 == 3 else KEMS[0]) for i in range(150)]
    readers = [(f"user-{i}", pair.public) for i, pair in enumerate(pairs)]
    sealed = committed_sealer(kek, tenant_id="acme", version_id=V1).many(readers)
    assert len(sealed) == len(readers)
    for (user_id, _), pair, blob in zip(readers, pairs, sealed, strict=True):
        opened = open_(blob, pair.kem, user_id=user_id, key_pair=pair, commitment=commitment)
        assert opened == kek
    with pytest.raises(DecryptionError):  # a neighbour's blob: another reader's info
        open_(sealed[1], "x25519", user_id="user-0", key_pair=pairs[0], commitment=commitment)


# --- key slots ------------------------------------------------------------------------------

SLOT_KEY = os.urandom(32)
SLOT_IDS = {"tenant_id": "acme", "user_id": "alice", "key_id": "0" * 32}


def test_slot_round_trip_and_every_byte_flipped() -> None:
    secret = PAIRS["x25519"].private_bytes()
    slot = seal_slot(SLOT_KEY, secret, **SLOT_IDS)
    assert open_slot(slot, SLOT_KEY, **SLOT_IDS) == secret
    for i in range(len(slot)):
        bad = bytearray(slot)
        bad[i] ^= 0x01
        with pytest.raises(CryptoError):
            open_slot(bytes(bad), SLOT_KEY, **SLOT_IDS)


@pytest.mark.parametrize(
    "over", [{"tenant_id": "globex"}, {"user_id": "bob"}, {"key_id": "1" * 32}]
)
def test_slot_swapped_binding_rejected(over: dict[str, str]) -> None:
    slot = seal_slot(SLOT_KEY, b"private", **SLOT_IDS)
    with pytest.raises(DecryptionError):
        open_slot(slot, SLOT_KEY, **{**SLOT_IDS, **over})
    with pytest.raises(DecryptionError):
        open_slot(slot, os.urandom(32), **SLOT_IDS)


@settings(max_examples=30, deadline=None)
@given(
    secret=st.binary(min_size=1, max_size=512),
    user=st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True),
)
def test_property_slot_round_trip(secret: bytes, user: str) -> None:
    ids = {**SLOT_IDS, "user_id": user}
    assert open_slot(seal_slot(SLOT_KEY, secret, **ids), SLOT_KEY, **ids) == secret


@settings(max_examples=10, deadline=None)
@given(
    user=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_@-]{0,20}", fullmatch=True),
    kek=st.binary(min_size=32, max_size=32),
)
def test_property_blob_round_trip(user: str, kek: bytes) -> None:
    pair = PAIRS["x25519"]
    ids = {"tenant_id": "acme", "user_id": user, "version_id": V2}
    blob = seal_blob(kek, signing_key=H.signing_key, recipient=pair.public, **ids)
    assert open_blob(blob, signing_public_key=H.signing_public_key, key_pair=pair, **ids) == kek
