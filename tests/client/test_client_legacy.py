"""Legacy import: entries in the original TypeScript SDK's format.

The entries are produced here by an independent re-implementation of the original SDK's
recipe (stdlib PBKDF2 + pyca HKDF/AES-GCM, written from the design notes, not from
neurallog code), then read back through the client's LegacyReader.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from neurallog.client import LegacyReader, read_legacy_entries
from neurallog.errors import DecryptionError, FormatError

TENANT = "legacy-corp"
PHRASE = "the quick brown fox jumps over the lazy dog"
VERSION = "kek-v1"


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def original_sdk_entry(data: Any, version: str = VERSION, phrase: str = PHRASE) -> dict[str, Any]:
    """What the original SDK stored for ``client.log(name, data)``."""
    secret = hashlib.pbkdf2_hmac(
        "sha256", phrase.encode(), f"NeuralLog-{TENANT}-MasterSecret".encode(), 100_000, 32
    )
    master_kek = _hkdf(secret, b"NeuralLog-MasterKEK", b"master-key-encryption-key")
    op_kek = _hkdf(
        master_kek, f"NeuralLog-OpKEK-{version}".encode(), b"operational-key-encryption-key"
    )
    data_key = _hkdf(op_kek, b"NeuralLog-LogKey", b"logs")
    iv = os.urandom(12)
    ct = AESGCM(data_key).encrypt(iv, json.dumps(data).encode(), None)
    return {
        "encrypted": True,
        "algorithm": "aes-256-gcm",
        "iv": base64.b64encode(iv).decode(),
        "data": base64.b64encode(ct).decode(),
        "kekVersion": version,
    }


def test_reads_original_entries_of_several_versions() -> None:
    entries = [
        original_sdk_entry({"message": "Hello, world!"}),
        original_sdk_entry("plain text", version="kek-v2"),
        json.dumps(original_sdk_entry([1, 2, 3])),
    ]
    out = read_legacy_entries(entries, tenant_id=TENANT, recovery_phrase=PHRASE)
    assert out == [{"message": "Hello, world!"}, "plain text", [1, 2, 3]]


def test_wrong_phrase_or_tampered_entry_fails_closed() -> None:
    entry = original_sdk_entry({"message": "secret"})
    with pytest.raises(DecryptionError):
        LegacyReader(TENANT, PHRASE + "!").read(entry)
    reader = LegacyReader(TENANT, PHRASE)
    tampered = dict(entry, data=base64.b64encode(b"\x00" * 40).decode())
    with pytest.raises(DecryptionError):
        reader.read(tampered)
    with pytest.raises(FormatError):
        reader.read({"encrypted": False, "data": "aGVsbG8="})  # never returned as is
    with pytest.raises(FormatError):
        reader.read({**entry, "kekVersion": ""})
    assert PHRASE not in repr(reader)
