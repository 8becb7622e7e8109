"""Known-answer tests of every built-in KDF and cipher, through the checked wrappers.

The vectors are JSON files in tests/vectors/ (kdf_*.json, cipher_*.json); each names its
independent source (RFCs, the Argon2 and BIP-39 reference suites).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neurallog.errors import DecryptionError
from neurallog.plugins import get_cipher, get_kdf

VECTORS = Path(__file__).resolve().parent.parent / "vectors"


def _load(pattern: str) -> list[Any]:
    cases = []
    for path in sorted(VECTORS.glob(pattern)):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["source"], f"{path.name} must cite its source"
        for i, vector in enumerate(doc["vectors"]):
            marks = [pytest.mark.slow] if vector.get("slow") else []
            cases.append(pytest.param(doc["algorithm"], vector, id=f"{path.stem}-{i}", marks=marks))
    return cases


KDF_CASES = _load("kdf_*.json")
CIPHER_CASES = _load("cipher_*.json")


def test_every_builtin_has_vectors() -> None:
    kdfs = {case.values[0] for case in KDF_CASES}
    ciphers = {case.values[0] for case in CIPHER_CASES}
    assert kdfs >= {"argon2id", "pbkdf2-sha256", "scrypt", "bip39", "neurallog-legacy"}
    assert ciphers >= {"aes-256-gcm", "chacha20-poly1305", "aes-256-gcm-siv"}


@pytest.mark.parametrize(("algorithm", "vector"), KDF_CASES)
def test_kdf_known_answer(algorithm: str, vector: dict[str, Any]) -> None:
    kdf = get_kdf(algorithm)
    out = kdf.derive(
        vector["secret_utf8"].encode(),
        vector["salt_utf8"].encode(),
        vector["length"],
        **vector["params"],
    )
    assert out.hex() == vector["expected_hex"]


@pytest.mark.parametrize(("algorithm", "vector"), CIPHER_CASES)
def test_cipher_known_answer(algorithm: str, vector: dict[str, Any]) -> None:
    cipher = get_cipher(algorithm)
    key, nonce = bytes.fromhex(vector["key_hex"]), bytes.fromhex(vector["nonce_hex"])
    aad, pt = bytes.fromhex(vector["aad_hex"]), bytes.fromhex(vector["plaintext_hex"])
    ct = bytes.fromhex(vector["ciphertext_hex"])
    assert cipher.encrypt(key, nonce, pt, aad) == ct
    assert cipher.decrypt(key, nonce, ct, aad) == pt


@pytest.mark.parametrize(("algorithm", "vector"), CIPHER_CASES)
def test_cipher_vector_tampered_fails_closed(algorithm: str, vector: dict[str, Any]) -> None:
    cipher = get_cipher(algorithm)
    key, nonce = bytes.fromhex(vector["key_hex"]), bytes.fromhex(vector["nonce_hex"])
    aad = bytes.fromhex(vector["aad_hex"])
    ct = bytearray(bytes.fromhex(vector["ciphertext_hex"]))
    ct[-1] ^= 0x01
    with pytest.raises(DecryptionError, match=r"^decryption failed$"):
        cipher.decrypt(key, nonce, bytes(ct), aad)
    with pytest.raises(DecryptionError, match=r"^decryption failed$"):
        cipher.decrypt(key, nonce, bytes.fromhex(vector["ciphertext_hex"]), aad + b"x")


def test_bip39_matches_python_mnemonic_reference() -> None:
    """The bip39 plugin and trezor's python-mnemonic agree, including NFKD of a passphrase."""
    import unicodedata

    from mnemonic import Mnemonic

    words = "legal winner thank year wave sausage worth useful legal winner thank yellow"
    passphrase = "Ünïcödé pässphrase"
    seed = get_kdf("bip39").derive(
        unicodedata.normalize("NFKD", words).encode(),
        b"mnemonic" + unicodedata.normalize("NFKD", passphrase).encode(),
        64,
    )
    assert seed == Mnemonic.to_seed(words, passphrase)


def test_argon2_library_matches_rfc9106_section_5_3() -> None:
    """The libargon2 behind the argon2id plugin reproduces RFC 9106 s.5.3 (with K and X)."""
    from argon2.low_level import ARGON2_VERSION, Type, core, ffi, lib

    v = json.loads((VECTORS / "kdf_argon2id.json").read_text(encoding="utf-8"))["library_check"]
    buffers = {
        name: ffi.new("uint8_t[]", bytes.fromhex(v[f"{name}_hex"]))
        for name in ("password", "salt", "secret", "ad")
    }
    out = ffi.new("uint8_t[]", v["length"])
    ctx = ffi.new(
        "argon2_context *",
        {
            "version": ARGON2_VERSION,
            "out": out,
            "outlen": v["length"],
            "pwd": buffers["password"],
            "pwdlen": len(v["password_hex"]) // 2,
            "salt": buffers["salt"],
            "saltlen": len(v["salt_hex"]) // 2,
            "secret": buffers["secret"],
            "secretlen": len(v["secret_hex"]) // 2,
            "ad": buffers["ad"],
            "adlen": len(v["ad_hex"]) // 2,
            "t_cost": v["t"],
            "m_cost": v["m"],
            "lanes": v["p"],
            "threads": v["p"],
            "allocate_cbk": ffi.NULL,
            "free_cbk": ffi.NULL,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    assert core(ctx, Type.ID.value) == lib.ARGON2_OK
    assert bytes(ffi.buffer(out, v["length"])).hex() == v["expected_hex"]
