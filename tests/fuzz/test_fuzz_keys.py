"""Fuzzing the key decoders: KEK blobs, key slots and serialised user keys.

A blob or slot comes from the server; only ``FormatError``, ``SignatureError`` and
``DecryptionError`` may escape, and no mutated blob or slot may open.
"""

from __future__ import annotations

import os

from fuzzing import FUZZ, mutated, only
from hypothesis import given
from hypothesis import strategies as st

from neurallog.crypto.blobs import open_blob, seal_blob, verify_blob
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.keyslots import open_slot, seal_slot
from neurallog.crypto.userkeys import KEMS, UserKeyPair, UserPublicKey
from neurallog.errors import DecryptionError, FormatError, SignatureError

TENANT, USER, KEY_ID = "fuzz-tenant", "alice", os.urandom(16).hex()
VERSION = "a06e050b-8cbe-44b8-98d4-95069e4d750b"
HIERARCHY = KeyHierarchy.from_master_secret(
    TENANT, os.urandom(32), kdf="argon2id", kdf_params={}, secret_kind="phrase"
)
OP_KEK = HIERARCHY.operational_kek(VERSION)
PAIRS = {kem: UserKeyPair.generate(kem) for kem in KEMS}
BLOBS = {
    (kem, aead): seal_blob(
        OP_KEK,
        signing_key=HIERARCHY.signing_key,
        tenant_id=TENANT,
        user_id=USER,
        version_id=VERSION,
        recipient=PAIRS[kem].public,
        aead=aead,
    )
    for kem in KEMS
    for aead in ("aes-256-gcm", "chacha20-poly1305")
}
BLOB_ERRORS = (FormatError, SignatureError, DecryptionError)


def _open(blob: bytes, kem: str, *, user: str = USER, version: str = VERSION) -> bytes:
    return open_blob(
        blob,
        signing_public_key=HIERARCHY.signing_public_key,
        tenant_id=TENANT,
        user_id=user,
        version_id=version,
        key_pair=PAIRS[kem],
    )


def test_the_blob_fixtures_open() -> None:
    for (kem, _), blob in BLOBS.items():
        assert _open(blob, kem) == OP_KEK


@st.composite
def blob_like(draw: st.DrawFn) -> bytes:
    head = bytes(
        [draw(st.sampled_from([1, 1, 0, 2])), draw(st.integers(0, 3)), draw(st.integers(0, 3))]
    )
    size = draw(st.sampled_from([32 + 32 + 16 + 64, 1120 + 32 + 16 + 64]) | st.integers(0, 200))
    return head + draw(st.binary(min_size=size, max_size=size))


@FUZZ
@given(data=st.binary(max_size=400) | blob_like(), kem=st.sampled_from(KEMS))
def test_arbitrary_blob_never_opens(data: bytes, kem: str) -> None:
    ok, result = only(BLOB_ERRORS, _open, data, kem)
    assert not ok, f"random bytes opened as a KEK blob: {result.hex()}"
    only(
        BLOB_ERRORS,
        verify_blob,
        data,
        signing_public_key=HIERARCHY.signing_public_key,
        tenant_id=TENANT,
        user_id=USER,
        version_id=VERSION,
        recipient=PAIRS[kem].public,
    )


@st.composite
def mutated_blob(draw: st.DrawFn) -> tuple[str, bytes]:
    kem, aead = draw(st.sampled_from(sorted(BLOBS)))
    return kem, draw(mutated(BLOBS[(kem, aead)]))


@FUZZ
@given(mutated_blob())
def test_mutated_blob_never_opens(case: tuple[str, bytes]) -> None:
    kem, bad = case
    ok, _ = only(BLOB_ERRORS, _open, bad, kem)
    assert not ok, "a mutated KEK blob opened"


@FUZZ
@given(
    key=st.sampled_from(sorted(BLOBS)),
    user=st.sampled_from([USER, "bob"]),
    version=st.sampled_from([VERSION, "0b7b9f4e-2a61-4c8e-9d0f-3e5a7c1b2d4f"]),
    signer=st.sampled_from(["tenant", "other"]),
)
def test_swapped_blob_never_opens(
    key: tuple[str, str], user: str, version: str, signer: str
) -> None:
    """A blob served for another user or version, or signed by another key, is refused."""
    kem = key[0]
    other = KeyHierarchy.from_master_secret(
        TENANT, b"\x07" * 32, kdf="argon2id", kdf_params={}, secret_kind="phrase"
    )
    pinned = HIERARCHY if signer == "tenant" else other
    ok, _ = only(
        BLOB_ERRORS,
        open_blob,
        BLOBS[key],
        signing_public_key=pinned.signing_public_key,
        tenant_id=TENANT,
        user_id=user,
        version_id=version,
        key_pair=PAIRS[kem],
    )
    assert ok == ((user, version, signer) == (USER, VERSION, "tenant"))


# --- key slots --------------------------------------------------------------------------------

SLOT_KEY = os.urandom(32)
SLOTS = {
    kem: seal_slot(
        SLOT_KEY, PAIRS[kem].private_bytes(), tenant_id=TENANT, user_id=USER, key_id=KEY_ID
    )
    for kem in KEMS
}
SLOT_ERRORS = (FormatError, DecryptionError)


def _open_slot(slot: bytes, *, key: bytes = SLOT_KEY, user: str = USER) -> bytes:
    return open_slot(slot, key, tenant_id=TENANT, user_id=user, key_id=KEY_ID)


def test_the_slot_fixtures_open() -> None:
    for kem, slot in SLOTS.items():
        assert UserKeyPair.from_bytes(_open_slot(slot)).public == PAIRS[kem].public


@FUZZ
@given(st.binary(max_size=300) | st.binary(min_size=29, max_size=140).map(lambda b: b"\x01" + b))
def test_arbitrary_slot_never_opens(data: bytes) -> None:
    ok, _ = only(SLOT_ERRORS, _open_slot, data)
    assert not ok, "random bytes opened as a key slot"


@FUZZ
@given(kem=st.sampled_from(KEMS), data=st.data())
def test_mutated_slot_never_opens(kem: str, data: st.DataObject) -> None:
    bad = data.draw(mutated(SLOTS[kem]))
    ok, _ = only(SLOT_ERRORS, _open_slot, bad)
    assert not ok, "a mutated key slot opened"
    ok, _ = only(SLOT_ERRORS, _open_slot, SLOTS[kem], user="mallory")
    assert not ok, "a slot opened for another user"


# --- serialised user keys (a slot's content, a user's public key from the server) -------------


@FUZZ
@given(
    st.binary(max_size=1300)
    | st.tuples(st.integers(0, 3), st.sampled_from([32, 96, 1216]), st.data()).map(
        lambda t: bytes([t[0]]) + t[2].draw(st.binary(min_size=t[1], max_size=t[1]))
    )
)
def test_user_key_decoders(data: bytes) -> None:
    ok, public = only((FormatError,), UserPublicKey.from_bytes, data)
    if ok:
        assert public.raw == data and len(public.fingerprint) == 32
    ok, pair = only((FormatError,), UserKeyPair.from_bytes, data)
    if ok:
        assert pair.private_bytes() == data
        assert UserPublicKey.from_bytes(pair.public.raw) == pair.public
