"""The plugin manager: lazy loading, registration, duplicates, unknown names, bad plugins."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

import neurallog
from neurallog.errors import (
    DuplicateAlgorithmError,
    PluginError,
    PluginFailedError,
    UnknownAlgorithmError,
)
from neurallog.hookspecs import RegisterCipher, RegisterKdf
from neurallog.plugins import (
    get_cipher,
    get_kdf,
    get_plugin_manager,
    list_ciphers,
    list_kdfs,
    register_plugin,
)

BUILTIN_KDFS = {"argon2id", "bip39", "neurallog-legacy", "pbkdf2-sha256", "scrypt"}
BUILTIN_CIPHERS = {"aes-256-gcm", "aes-256-gcm-siv", "chacha20-poly1305"}


class XorKdf:
    """Not a KDF anyone should use: a stand-in whose output is easy to predict."""

    def __init__(self, name: str = "xor-test") -> None:
        self.name = name
        self.default_params: dict[str, Any] = {}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        return bytes((s ^ 0x5A) for s in (secret * length)[:length])


class KdfPluginObject:
    def __init__(self, *kdfs: object) -> None:
        self.kdfs = kdfs

    @neurallog.hookimpl
    def neurallog_register_kdfs(self, register: RegisterKdf) -> None:
        for kdf in self.kdfs:
            register(kdf)  # type: ignore[arg-type]


def test_import_loads_no_plugin() -> None:
    """Importing the manager (or neurallog) imports no entry point: loading is lazy."""
    code = (
        "import sys, neurallog, neurallog.plugins as p\n"
        "assert 'neurallog_plugins.kdfs' not in sys.modules\n"
        "p.list_kdfs()\n"
        "assert 'neurallog_plugins.kdfs' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_builtins_come_through_entry_points() -> None:
    kdfs = {info.name: info for info in list_kdfs()}
    ciphers = {info.name: info for info in list_ciphers()}
    assert set(kdfs) >= BUILTIN_KDFS
    assert set(ciphers) >= BUILTIN_CIPHERS
    assert all(kdfs[n].origin == "builtin" and kdfs[n].kind == "kdf" for n in BUILTIN_KDFS)
    assert {kdfs[n].plugin for n in BUILTIN_KDFS} == {"builtin_kdfs"}
    assert {ciphers[n].plugin for n in BUILTIN_CIPHERS} == {"builtin_ciphers"}
    assert get_plugin_manager().has_plugin("builtin_kdfs")


def test_builtin_shapes_and_defaults() -> None:
    assert get_kdf("argon2id").default_params == {"t": 3, "m": 65536, "p": 4}
    assert get_kdf("pbkdf2-sha256").default_params == {"iterations": 600_000}
    assert get_kdf("scrypt").default_params == {"n": 2**17, "r": 8, "p": 1}
    for name in BUILTIN_CIPHERS:
        cipher = get_cipher(name)
        assert (cipher.key_size, cipher.nonce_size, cipher.tag_size) == (32, 12, 16)


def test_unknown_name_lists_available() -> None:
    with pytest.raises(UnknownAlgorithmError, match=r"unknown kdf 'nope'.*argon2id.*scrypt"):
        get_kdf("nope")
    with pytest.raises(UnknownAlgorithmError, match=r"unknown cipher 'aes'.*aes-256-gcm"):
        get_cipher("aes")


def test_register_plugin_at_run_time() -> None:
    name = register_plugin(KdfPluginObject(XorKdf()), name="xor-plugin")
    assert name == "xor-plugin"
    info = next(i for i in list_kdfs() if i.name == "xor-test")
    assert (info.origin, info.plugin) == ("runtime:xor-plugin", "xor-plugin")
    assert get_kdf("xor-test").derive(b"\x00\x01", b"", 3) == bytes([0x5A, 0x5B, 0x5A])


def test_duplicate_with_builtin_names_both_and_changes_nothing() -> None:
    with pytest.raises(DuplicateAlgorithmError) as excinfo:
        register_plugin(KdfPluginObject(XorKdf("other-ok"), XorKdf("argon2id")), name="dup")
    message = str(excinfo.value)
    assert "'builtin_kdfs' (builtin)" in message
    assert "'dup' (runtime:dup)" in message
    # all or nothing: the plugin is gone and its other KDF was not added
    assert not get_plugin_manager().has_plugin("dup")
    assert "other-ok" not in {i.name for i in list_kdfs()}
    assert get_kdf("argon2id").info.plugin == "builtin_kdfs"


def test_duplicate_within_one_plugin() -> None:
    with pytest.raises(DuplicateAlgorithmError, match="xor-test"):
        register_plugin(KdfPluginObject(XorKdf(), XorKdf()), name="twice")


def test_hook_that_raises_is_reported_with_its_name() -> None:
    class Broken:
        @neurallog.hookimpl
        def neurallog_register_ciphers(self, register: RegisterCipher) -> None:
            raise KeyError("boom")

    with pytest.raises(PluginFailedError, match=r"plugin 'broken-one'.*KeyError"):
        register_plugin(Broken(), name="broken-one")
    assert not get_plugin_manager().has_plugin("broken-one")
    assert get_cipher("aes-256-gcm")  # the manager keeps working


def test_misspelled_hook_is_caught_by_check_pending() -> None:
    class Typo:
        @neurallog.hookimpl
        def neurallog_register_kdf(self, register: RegisterKdf) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginFailedError, match="neurallog_register_kdf"):
        register_plugin(Typo(), name="typo")
    assert not get_plugin_manager().has_plugin("typo")


@pytest.mark.parametrize(
    ("obj", "needle"),
    [
        (XorKdf("Upper-Case"), "invalid name"),
        (XorKdf("-leading"), "invalid name"),
        (XorKdf("x" * 65), "invalid name"),
        (object(), "invalid name"),
    ],
)
def test_invalid_kdf_names_are_refused(obj: object, needle: str) -> None:
    with pytest.raises(PluginFailedError, match=needle):
        register_plugin(KdfPluginObject(obj), name="bad-name")


def test_invalid_cipher_shapes_are_refused() -> None:
    class BadCipher:
        name = "bad-cipher"
        key_size = 32
        nonce_size = 12
        tag_size = 4  # a 32-bit tag is forgeable

        def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
            return plaintext

        def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
            return ciphertext

    class Plugin:
        @neurallog.hookimpl
        def neurallog_register_ciphers(self, register: RegisterCipher) -> None:
            register(BadCipher())

    with pytest.raises(PluginFailedError, match=r"tag_size=4"):
        register_plugin(Plugin(), name="bad-cipher-plugin")


def test_all_plugin_errors_share_a_root() -> None:
    for cls in (UnknownAlgorithmError, DuplicateAlgorithmError, PluginFailedError):
        assert issubclass(cls, PluginError)


def test_first_use_from_many_threads_loads_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=16) as pool:
        managers = list(pool.map(lambda _: get_plugin_manager(), range(64)))
    assert all(pm is managers[0] for pm in managers)
    assert get_kdf("argon2id") is get_kdf("argon2id")
