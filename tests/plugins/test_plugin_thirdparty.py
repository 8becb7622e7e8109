"""A real third-party plugin distribution, installed with pip and found by entry point."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from thirdparty import (
    THIRDPARTY_CIPHER,
    THIRDPARTY_KDF,
    THIRDPARTY_NAME,
    THIRDPARTY_VERSION,
    broken_plugin_installed,
    install_thirdparty_plugin,
)

from neurallog.errors import DecryptionError, PluginFailedError, UnknownAlgorithmError
from neurallog.plugins import (
    DISABLE_ENV,
    get_cipher,
    get_kdf,
    get_plugin_manager,
    list_ciphers,
    list_kdfs,
)

ORIGIN = f"{THIRDPARTY_NAME} {THIRDPARTY_VERSION}"


@pytest.fixture(autouse=True)
def thirdparty_installed() -> None:
    install_thirdparty_plugin()


def test_listed_with_its_distribution_as_origin() -> None:
    kdfs = {info.name: info for info in list_kdfs()}
    ciphers = {info.name: info for info in list_ciphers()}
    assert kdfs[THIRDPARTY_KDF].origin == ORIGIN
    assert kdfs[THIRDPARTY_KDF].plugin == "testplugin"
    assert ciphers[THIRDPARTY_CIPHER].origin == ORIGIN
    assert kdfs["argon2id"].origin == "builtin"  # built-ins are still there
    dists = {dist.project_name for _, dist in get_plugin_manager().list_plugin_distinfo()}
    assert THIRDPARTY_NAME in dists


def test_thirdparty_kdf_is_used() -> None:
    out = get_kdf(THIRDPARTY_KDF).derive(b"phrase", b"tenant-salt", 48)
    expected = HKDF(
        algorithm=hashes.SHA512(), length=48, salt=b"tenant-salt", info=b"neurallog-test"
    ).derive(b"phrase")
    assert out == expected


def test_thirdparty_cipher_matches_gcm_test_case_16() -> None:
    """aes-256-gcm-test is AES-GCM renamed: McGrew-Viega test case 16 must hold for it too."""
    key = bytes.fromhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")
    nonce = bytes.fromhex("cafebabefacedbaddecaf888")
    aad = bytes.fromhex("feedfacedeadbeeffeedfacedeadbeefabaddad2")
    pt = bytes.fromhex(
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    )
    cipher = get_cipher(THIRDPARTY_CIPHER)
    ct = cipher.encrypt(key, nonce, pt, aad)
    assert ct[-16:].hex() == "76fc6ece0f4e1768cddf8853bb2d551b"
    assert cipher.decrypt(key, nonce, ct, aad) == pt
    with pytest.raises(DecryptionError):
        cipher.decrypt(key, nonce, ct, b"")


@pytest.mark.parametrize("value", ["testplugin", THIRDPARTY_NAME, "neurallog_testplugin"])
def test_disable_hides_it(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(DISABLE_ENV, f"something-else, {value}")
    assert THIRDPARTY_KDF not in {info.name for info in list_kdfs()}
    assert THIRDPARTY_CIPHER not in {info.name for info in list_ciphers()}
    with pytest.raises(UnknownAlgorithmError, match=r"available: .*argon2id"):
        get_kdf(THIRDPARTY_KDF)
    assert get_plugin_manager().is_blocked("testplugin")
    assert get_kdf("argon2id").origin == "builtin"


def test_broken_installed_plugin_is_reported_and_can_be_disabled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with broken_plugin_installed():
        with pytest.raises(PluginFailedError) as excinfo:
            list_kdfs()
        message = str(excinfo.value)
        assert "neurallog-brokenplugin 0.0.1" in message
        assert f"{DISABLE_ENV}=broken" in message
        # each entry point is reported by name: the raising hook, then the missing module
        monkeypatch.setenv(DISABLE_ENV, "brokenimport")
        with pytest.raises(PluginFailedError, match=r"'brokenplugin'.*RuntimeError"):
            list_kdfs()
        monkeypatch.setenv(DISABLE_ENV, "brokenplugin")
        with pytest.raises(
            PluginFailedError, match=r"'brokenimport'.*failed to load: ModuleNotFoundError"
        ):
            get_cipher("aes-256-gcm")
        # loading failed, so nothing was cached: disabling it makes everything work
        monkeypatch.setenv(DISABLE_ENV, "neurallog-brokenplugin")
        assert THIRDPARTY_KDF in {info.name for info in list_kdfs()}
