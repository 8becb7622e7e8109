"""KEK blobs format 2 (committed): known answers and what the commitment refuses.

``tests/vectors/kek_blob_v2.json`` was computed without ``neurallog.crypto.blobs`` (hmac,
hashlib and cryptography's HPKE from the rules in docs/formats.md): if the label, the HPKE
``info``, the head or the commitment changes, these tests fail.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neurallog.crypto import labels as L
from neurallog.crypto.blobs import (
    COMMITTED_FORMAT_VERSION,
    MAX_BLOB_SIZE,
    committed_blob_info,
    kek_commitment,
    open_blob,
    seal_blob,
    seal_committed_blob,
)
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.errors import DecryptionError, FormatError, SignatureError

VECTOR = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "kek_blob_v2.json").read_text("utf-8")
)
TENANT, USER, VERSION = VECTOR["tenant_id"], VECTOR["user_id"], VECTOR["version_id"]
KEK = bytes.fromhex(VECTOR["operational_kek_hex"])
COMMIT = bytes.fromhex(VECTOR["kek_commitment_hex"])
PAIR = UserKeyPair.from_bytes(bytes.fromhex(VECTOR["recipient_private_key_hex"]))
OTHER_VERSION = "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b"
H = KeyHierarchy.from_recovery_phrase(
    TENANT, "blob phrase", kdf="pbkdf2-sha256", params={"iterations": 1}
)


def open_(blob: bytes, **over: Any) -> bytes:
    args: dict[str, Any] = {
        "signing_public_key": H.signing_public_key,
        "tenant_id": TENANT,
        "user_id": USER,
        "version_id": VERSION,
        "key_pair": PAIR,
        "commitment": COMMIT,
    }
    args.update(over)
    return open_blob(blob, **args)


def test_commitment_known_answer() -> None:
    assert L.label(L.KEK_COMMITMENT, TENANT, VERSION).hex() == VECTOR["commitment_message_hex"]
    assert kek_commitment(KEK, tenant_id=TENANT, version_id=VERSION) == COMMIT


def test_info_and_recipient_known_answer() -> None:
    assert PAIR.public.raw.hex() == VECTOR["recipient_public_key_hex"]
    assert PAIR.public.fingerprint.hex() == VECTOR["recipient_fingerprint_hex"]
    head = bytes.fromhex(VECTOR["head_hex"])
    info = committed_blob_info(TENANT, USER, VERSION, PAIR.public.fingerprint, head)
    assert info.hex() == VECTOR["hpke_info_hex"]


def test_the_vector_blob_opens_to_the_committed_key() -> None:
    blob = bytes.fromhex(VECTOR["blob_hex"])
    assert blob[0] == COMMITTED_FORMAT_VERSION
    assert open_(blob) == KEK


def test_a_blob_of_another_key_fails_the_commitment() -> None:
    """What a server that seals its own key to the member's public key gets: refused."""
    with pytest.raises(SignatureError, match="commitment"):
        open_(bytes.fromhex(VECTOR["blob_of_another_key_hex"]))


def test_a_committed_blob_without_a_commitment_is_refused() -> None:
    with pytest.raises(SignatureError, match="server may be tampering"):
        open_(bytes.fromhex(VECTOR["blob_hex"]), commitment=None)


def test_round_trip_size_and_every_byte_flipped() -> None:
    blob = seal_committed_blob(
        KEK, tenant_id=TENANT, user_id=USER, version_id=VERSION, recipient=PAIR.public
    )
    assert len(blob) == len(bytes.fromhex(VECTOR["blob_hex"])) <= MAX_BLOB_SIZE
    assert open_(blob) == KEK
    for i in range(len(blob)):
        bad = bytearray(blob)
        bad[i] ^= 0x01
        with pytest.raises((FormatError, DecryptionError, SignatureError)):
            open_(bytes(bad))


@pytest.mark.parametrize(
    "over",
    [{"tenant_id": "globex"}, {"user_id": "bob"}, {"version_id": OTHER_VERSION}],
    ids=["tenant", "user", "version"],
)
def test_swapped_binding_does_not_open(over: dict[str, Any]) -> None:
    blob = bytes.fromhex(VECTOR["blob_hex"])
    with pytest.raises(DecryptionError):
        open_(blob, **over)


def test_format_1_blobs_stay_readable_and_are_checked_against_a_commitment() -> None:
    signed = seal_blob(
        KEK,
        signing_key=H.signing_key,
        tenant_id=TENANT,
        user_id=USER,
        version_id=VERSION,
        recipient=PAIR.public,
    )
    assert open_(signed, commitment=None) == KEK
    assert open_(signed) == KEK
    with pytest.raises(SignatureError, match="commitment"):
        open_(signed, commitment=bytes(32))
