"""The checked wrappers: misuse is TypeError/ValueError, misbehaving plugins are caught,
and every failed decryption is the same opaque DecryptionError."""

from __future__ import annotations

from typing import Any

import pytest

import neurallog
from neurallog.errors import DecryptionError, PluginFailedError
from neurallog.hookspecs import RegisterCipher, RegisterKdf
from neurallog.plugins import get_cipher, get_kdf, register_plugin

KEY, NONCE = bytes(range(32)), bytes(12)


class ShortKdf:
    name = "short-kdf"
    default_params: dict[str, Any] = {}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        return b"\x00" * (length - 1)


class RaisingKdf:
    name = "raising-kdf"
    default_params: dict[str, Any] = {}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        raise RuntimeError(f"leaky message with the secret {secret!r}")


class LyingCipher:
    """Returns no tag on encrypt and garbage on decrypt."""

    name = "lying-cipher"
    key_size, nonce_size, tag_size = 32, 12, 16

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return plaintext

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return ciphertext  # wrong length: tag not removed


class RaisingCipher(LyingCipher):
    name = "raising-cipher"

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        raise ZeroDivisionError(plaintext.hex())

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        raise ZeroDivisionError(ciphertext.hex())


class Misbehaving:
    @neurallog.hookimpl
    def neurallog_register_kdfs(self, register: RegisterKdf) -> None:
        register(ShortKdf())
        register(RaisingKdf())

    @neurallog.hookimpl
    def neurallog_register_ciphers(self, register: RegisterCipher) -> None:
        register(LyingCipher())
        register(RaisingCipher())


@pytest.fixture
def misbehaving() -> None:
    register_plugin(Misbehaving(), name="misbehaving")


@pytest.mark.usefixtures("misbehaving")
def test_kdf_output_of_wrong_length_is_plugin_failure() -> None:
    with pytest.raises(PluginFailedError, match=r"short-kdf.*'misbehaving'.*31 bytes.*32"):
        get_kdf("short-kdf").derive(b"s", b"salt", 32)


@pytest.mark.usefixtures("misbehaving")
def test_kdf_exception_is_plugin_failure_without_its_message() -> None:
    with pytest.raises(PluginFailedError) as excinfo:
        get_kdf("raising-kdf").derive(b"hunter2", b"salt", 32)
    assert "RuntimeError" in str(excinfo.value)
    assert "runtime:misbehaving" in str(excinfo.value)
    assert "hunter2" not in str(excinfo.value)
    assert excinfo.value.__cause__ is None and excinfo.value.__suppress_context__


@pytest.mark.usefixtures("misbehaving")
def test_cipher_without_tag_is_plugin_failure() -> None:
    with pytest.raises(PluginFailedError, match=r"lying-cipher.*5 bytes.*expected 21"):
        get_cipher("lying-cipher").encrypt(KEY, NONCE, b"hello", b"")


@pytest.mark.usefixtures("misbehaving")
def test_cipher_exception_hides_plaintext() -> None:
    with pytest.raises(PluginFailedError) as excinfo:
        get_cipher("raising-cipher").encrypt(KEY, NONCE, b"top secret", b"")
    assert b"top secret".hex() not in str(excinfo.value)
    assert "ZeroDivisionError" in str(excinfo.value)


@pytest.mark.usefixtures("misbehaving")
@pytest.mark.parametrize("name", ["lying-cipher", "raising-cipher", "aes-256-gcm"])
def test_any_decrypt_failure_is_opaque(name: str) -> None:
    cipher = get_cipher(name)
    with pytest.raises(DecryptionError) as excinfo:
        cipher.decrypt(KEY, NONCE, bytes(40), b"aad")
    assert str(excinfo.value) == "decryption failed"
    error = excinfo.value
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


@pytest.mark.parametrize("name", ["aes-256-gcm", "chacha20-poly1305", "aes-256-gcm-siv"])
def test_decrypt_of_envelope_fields_is_opaque(name: str) -> None:
    cipher = get_cipher(name)
    ct = cipher.encrypt(KEY, NONCE, b"log line", b"aad")
    for nonce, data in ((bytes(11), ct), (bytes(24), ct), (NONCE, ct[:15]), (NONCE, b"")):
        with pytest.raises(DecryptionError, match=r"^decryption failed$"):
            cipher.decrypt(KEY, nonce, data, b"aad")
    wrong_key = bytes(32)
    with pytest.raises(DecryptionError, match=r"^decryption failed$"):
        cipher.decrypt(wrong_key, NONCE, ct, b"aad")
    assert cipher.decrypt(KEY, NONCE, bytearray(ct), memoryview(b"aad")) == b"log line"


@pytest.mark.parametrize("name", ["aes-256-gcm", "chacha20-poly1305", "aes-256-gcm-siv"])
def test_cipher_misuse(name: str) -> None:
    cipher = get_cipher(name)
    with pytest.raises(ValueError, match="32-byte key"):
        cipher.encrypt(bytes(16), NONCE, b"x", b"")
    with pytest.raises(ValueError, match="32-byte key"):
        cipher.decrypt(bytes(16), NONCE, bytes(17), b"")
    with pytest.raises(ValueError, match="12-byte nonce"):
        cipher.encrypt(KEY, bytes(8), b"x", b"")
    with pytest.raises(TypeError, match="plaintext must be bytes, not str"):
        cipher.encrypt(KEY, NONCE, "text", b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="aad must be bytes"):
        cipher.decrypt(KEY, NONCE, bytes(17), None)  # type: ignore[arg-type]


def test_kdf_misuse() -> None:
    kdf = get_kdf("pbkdf2-sha256")
    with pytest.raises(TypeError, match="secret must be bytes, not str"):
        kdf.derive("phrase", b"salt", 32, iterations=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="length must be int"):
        kdf.derive(b"p", b"salt", 32.0, iterations=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="length must be int"):
        kdf.derive(b"p", b"salt", True, iterations=1)
    for length in (0, -1, 1025):
        with pytest.raises(ValueError, match="length must be between 1 and 1024"):
            kdf.derive(b"p", b"salt", length, iterations=1)


@pytest.mark.parametrize(
    ("name", "params", "length", "error", "needle"),
    [
        ("argon2id", {"t": 0}, 32, ValueError, "t must be between 1"),
        ("argon2id", {"m": 16, "p": 4}, 32, ValueError, r"m must be at least 8\*p"),
        ("argon2id", {"m": 2**40}, 32, ValueError, "m must be between"),
        ("argon2id", {"p": "4"}, 32, TypeError, "p must be an int"),
        ("argon2id", {"t": True}, 32, TypeError, "t must be an int"),
        ("argon2id", {"memory": 1}, 32, ValueError, "unknown parameter.*memory"),
        ("argon2id", {}, 3, ValueError, "at least 4 bytes"),
        ("pbkdf2-sha256", {"iterations": 0}, 32, ValueError, "iterations"),
        ("pbkdf2-sha256", {"iterations": 10**9}, 32, ValueError, "iterations"),
        ("scrypt", {"n": 1000}, 32, ValueError, "power of 2"),
        ("scrypt", {"n": 2**21}, 32, ValueError, "n must be between"),
        ("scrypt", {"n": 2**20, "r": 16}, 32, ValueError, "128\\*n\\*r"),
        ("scrypt", {"r": 0}, 32, ValueError, "r must be between"),
        ("bip39", {}, 32, ValueError, "seed is 64 bytes"),
        ("bip39", {"iterations": 2048}, 64, ValueError, "unknown parameter"),
        ("neurallog-legacy", {"iterations": 1}, 32, ValueError, "unknown parameter"),
    ],
)
def test_builtin_params_are_validated(
    name: str, params: dict[str, Any], length: int, error: type[Exception], needle: str
) -> None:
    kdf = get_kdf(name)
    with pytest.raises(error, match=needle):
        kdf.validate_params(params, length)
    with pytest.raises(error, match=needle):  # derive refuses before doing any work
        kdf.derive(b"secret", b"saltsalt", length, **params)


def test_validate_params_fills_in_defaults() -> None:
    assert get_kdf("argon2id").validate_params({"t": 1}, 32) == {"t": 1, "m": 65536, "p": 4}
    assert get_kdf("scrypt").validate_params({}, 32) == {"n": 2**17, "r": 8, "p": 1}


def test_defaults_are_used_when_no_params_given() -> None:
    """pbkdf2-sha256 with no parameters runs 600,000 iterations, not some other count."""
    kdf = get_kdf("pbkdf2-sha256")
    assert kdf.derive(b"pw", b"salt", 32) == kdf.derive(b"pw", b"salt", 32, iterations=600_000)
    assert kdf.derive(b"pw", b"salt", 32) != kdf.derive(b"pw", b"salt", 32, iterations=599_999)


def test_argon2id_short_salt_is_refused() -> None:
    with pytest.raises(PluginFailedError, match="argon2id"):
        get_kdf("argon2id").derive(b"secret", b"short", 32, t=1, m=64, p=1)
