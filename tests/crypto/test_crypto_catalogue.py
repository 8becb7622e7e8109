"""Catalogue records: a known answer from the independent construction, and tampering."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from neurallog.crypto.catalogue import open_name, open_record, seal_name
from neurallog.crypto.working import WorkingKeys
from neurallog.errors import DecryptionError, FormatError
from tests.crypto import nl_independent as ind

TENANT = "acme"
V1 = "00000000-0000-4000-8000-000000000001"
V2 = "00000000-0000-4000-8000-000000000002"
OP_KEK = bytes(range(32))
NONCE = bytes(range(12))
#: pinned: the record of "payments/api" under (OP_KEK, acme, V1) with NONCE
KNOWN = (
    "01000102030405060708090a0b"  # format, nonce
    "f7085b9648ce5c3629141ef3"  # "payments/api" encrypted (12 bytes)
    "3865681bebebbc717ea222ccb03cf21a"  # tag
)


def _independent(op_kek: bytes, tenant: str, version: str, name: str, nonce: bytes) -> bytes:
    """docs/key-hierarchy.md by hand: catalogue key, stream id, AAD, AES-256-GCM."""
    key = ind.hkdf(op_kek, b"", ind.label("catalogue-key", tenant, version), 32)
    index_key = ind.hkdf(op_kek, b"", ind.label("log-index-key", tenant, version), 32)
    mac = hmac.new(index_key, name.encode(), hashlib.sha256).digest()
    stream = ind.b64url(mac)
    aad = ind.label("catalogue-aad", tenant, version, stream)
    return b"\x01" + nonce + AESGCM(key).encrypt(nonce, name.encode(), aad)


def test_known_answer_matches_independent_construction() -> None:
    keys = WorkingKeys(TENANT, V1, OP_KEK)
    sealed = seal_name(keys, "payments/api", nonce=NONCE)
    assert sealed == _independent(OP_KEK, TENANT, V1, "payments/api", NONCE)
    assert sealed.hex() == KNOWN
    assert open_name(keys, keys.stream_id("payments/api"), sealed) == "payments/api"


def test_catalogue_key_is_its_own() -> None:
    keys = WorkingKeys(TENANT, V1, OP_KEK)
    assert keys.catalogue_key not in {keys.data_key, keys.log_index_key, keys.search_key}


def test_random_nonce_each_time() -> None:
    keys = WorkingKeys(TENANT, V1, OP_KEK)
    assert seal_name(keys, "a") != seal_name(keys, "a")


def test_moved_to_another_stream_is_refused() -> None:
    keys = WorkingKeys(TENANT, V1, OP_KEK)
    sealed = seal_name(keys, "payments/api")
    with pytest.raises(DecryptionError):
        open_name(keys, keys.stream_id("billing"), sealed)


def test_moved_to_another_version_is_refused() -> None:
    v1, v2 = WorkingKeys(TENANT, V1, OP_KEK), WorkingKeys(TENANT, V2, OP_KEK)
    sealed = seal_name(v1, "payments/api")
    with pytest.raises(DecryptionError):
        open_name(v2, v2.stream_id("payments/api"), sealed)


def test_other_tenant_is_refused() -> None:
    mine, theirs = WorkingKeys(TENANT, V1, OP_KEK), WorkingKeys("other", V1, OP_KEK)
    sealed = seal_name(mine, "x")
    with pytest.raises(DecryptionError):
        open_name(theirs, theirs.stream_id("x"), sealed)


@pytest.mark.parametrize("at", [1, 13, -1])
def test_flipped_bit_is_refused(at: int) -> None:
    keys = WorkingKeys(TENANT, V1, OP_KEK)
    sealed = bytearray(seal_name(keys, "payments/api"))
    sealed[at] ^= 0x01
    with pytest.raises(DecryptionError):
        open_name(keys, keys.stream_id("payments/api"), bytes(sealed))


def test_record_naming_another_stream_is_refused() -> None:
    """A key holder labels stream A with name B (a valid AAD for A): still refused."""
    keys = WorkingKeys(TENANT, V1, OP_KEK)
    stream_a = keys.stream_id("a")
    aad = ind.label("catalogue-aad", TENANT, V1, stream_a)
    forged = b"\x01" + NONCE + AESGCM(keys.catalogue_key).encrypt(NONCE, b"b", aad)
    with pytest.raises(DecryptionError, match="another stream"):
        open_name(keys, stream_a, forged)


@pytest.mark.parametrize("record", [b"", b"\x01" + bytes(20), b"\x03" + bytes(40)])
def test_malformed_record_is_a_format_error(record: bytes) -> None:
    keys = WorkingKeys(TENANT, V1, OP_KEK)
    with pytest.raises(FormatError):
        open_name(keys, keys.stream_id("a"), record)


# --- format v2: the record of a rewrapped stream ---------------------------------------------


def test_rewrapped_record_matches_the_independent_construction() -> None:
    """docs/key-hierarchy.md by hand: the rewrapped stream id of (origin V1, name) under V2,
    then the origin and the name sealed with that stream id in the AAD."""
    keys = WorkingKeys(TENANT, V2, OP_KEK)
    sealed = seal_name(keys, "payments/api", origin=V1, nonce=NONCE)
    key = ind.hkdf(OP_KEK, b"", ind.label("catalogue-key", TENANT, V2), 32)
    index_key = ind.hkdf(OP_KEK, b"", ind.label("log-index-key", TENANT, V2), 32)
    message = b"\xff" + ind.label("rewrap-stream", V1) + b"payments/api"
    stream = ind.b64url(hmac.new(index_key, message, hashlib.sha256).digest())
    assert stream == keys.rewrap_stream_id(V1, "payments/api")
    aad = ind.label("catalogue-aad", TENANT, V2, stream)
    body = V1.encode() + b"payments/api"
    assert sealed == b"\x02" + NONCE + AESGCM(key).encrypt(NONCE, body, aad)
    assert open_record(keys, stream, sealed) == ("payments/api", V1)
    assert open_record(keys, keys.stream_id("x"), seal_name(keys, "x")) == ("x", None)


def test_a_rewrapped_record_names_its_own_stream_only() -> None:
    keys = WorkingKeys(TENANT, V2, OP_KEK)
    sealed = seal_name(keys, "payments/api", origin=V1)
    for stream in (
        keys.stream_id("payments/api"),  # the log's own stream
        keys.rewrap_stream_id(V2, "payments/api"),  # another origin
        keys.rewrap_stream_id(V1, "billing"),  # another log
    ):
        with pytest.raises(DecryptionError):
            open_record(keys, stream, sealed)
    # a key holder sealing origin V2 for the stream of origin V1: refused
    aad = ind.label("catalogue-aad", TENANT, V2, keys.rewrap_stream_id(V1, "payments/api"))
    forged = (
        b"\x02"
        + NONCE
        + AESGCM(keys.catalogue_key).encrypt(NONCE, V2.encode() + b"payments/api", aad)
    )
    with pytest.raises(DecryptionError, match="another stream"):
        open_record(keys, keys.rewrap_stream_id(V1, "payments/api"), forged)
    with pytest.raises(ValueError, match="origin"):
        seal_name(keys, "x", origin="short")


def test_rewrapped_stream_ids_never_equal_a_log_stream_id() -> None:
    keys = WorkingKeys(TENANT, V2, OP_KEK)
    assert keys.rewrap_stream_id(V1, "a") != keys.stream_id("a")
    assert keys.rewrap_stream_id(V1, "a") != keys.rewrap_stream_id(V2, "a")
