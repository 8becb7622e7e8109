"""Legacy (original TypeScript SDK) entries: malformed input is refused, never returned."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.legacy import legacy_data_key, open_entry
from neurallog.crypto.profile import build_profile, hierarchy_from_profile
from neurallog.errors import DecryptionError, FormatError, WrongRecoveryPhraseError

OP_KEK = os.urandom(32)


def entry(**over: Any) -> dict[str, Any]:
    iv = os.urandom(12)
    data = AESGCM(legacy_data_key(OP_KEK)).encrypt(iv, b"hello", None)
    base = {
        "encrypted": True,
        "algorithm": "aes-256-gcm",
        "iv": base64.b64encode(iv).decode(),
        "data": base64.b64encode(data).decode(),
        "kekVersion": "v1",
    }
    return {**base, **over}


def test_round_trip() -> None:
    assert open_entry(OP_KEK, entry()) == b"hello"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"encrypted": False}, "not marked encrypted"),
        ({"algorithm": "aes-128-cbc"}, "algorithm"),
        ({"iv": "not base64!"}, "'iv' is not valid base64"),
        ({"iv": base64.b64encode(b"short").decode()}, "12 bytes"),
        ({"data": base64.b64encode(b"tiny").decode()}, "shorter than the authentication tag"),
        ({"data": 42}, "'data' must be a base64 string"),
    ],
)
def test_malformed_entries_are_format_errors(over: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        open_entry(OP_KEK, entry(**over))


def test_not_a_mapping() -> None:
    with pytest.raises(FormatError):
        open_entry(OP_KEK, "plain text")  # type: ignore[arg-type]


def test_tampered_or_wrong_key_is_decryption_error() -> None:
    e = entry()
    raw = bytearray(base64.b64decode(e["data"]))
    raw[0] ^= 1
    with pytest.raises(DecryptionError):
        open_entry(OP_KEK, {**e, "data": base64.b64encode(bytes(raw)).decode()})
    with pytest.raises(DecryptionError):
        open_entry(os.urandom(32), entry())


def test_legacy_profile_round_trip() -> None:
    h = KeyHierarchy.from_recovery_phrase("acme", "old phrase", kdf="neurallog-legacy")
    profile = build_profile(h)
    assert profile["kdf"] == "neurallog-legacy"
    assert hierarchy_from_profile("acme", profile, "old phrase").master_kek == h.master_kek
    with pytest.raises(WrongRecoveryPhraseError):
        hierarchy_from_profile("acme", profile, "old  phrase")


def test_bip39_is_not_a_phrase_kdf() -> None:
    with pytest.raises(ValueError, match="from_mnemonic"):
        KeyHierarchy.from_recovery_phrase("acme", "x", kdf="bip39")
