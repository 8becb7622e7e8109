"""A tenant whose KDF and cipher come from a pip-installed third-party plugin works end to
end through the crypto API: profile, re-derivation with the key check, KEK blob, envelope."""

from __future__ import annotations

import pytest
from thirdparty import THIRDPARTY_CIPHER, THIRDPARTY_KDF, install_thirdparty_plugin

from neurallog.crypto.blobs import open_blob, seal_blob
from neurallog.crypto.envelope import EnvelopeOpener, EnvelopeSealer, parse_envelope
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.profile import build_profile, hierarchy_from_profile
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.crypto.working import WorkingKeys
from neurallog.errors import DecryptionError, UnknownAlgorithmError, WrongRecoveryPhraseError
from neurallog.plugins import reset_plugins

TENANT = "plugin-tenant"
VERSION = "0b6f2f9e-6b1f-4c63-9a57-3f4f1d2e9c10"
PHRASE = "correct horse battery staple for a plugin tenant"


@pytest.fixture(autouse=True)
def thirdparty_installed() -> None:
    install_thirdparty_plugin()


def test_thirdparty_tenant_end_to_end() -> None:
    admin = KeyHierarchy.from_recovery_phrase(TENANT, PHRASE, kdf=THIRDPARTY_KDF)
    profile = build_profile(admin, cipher=THIRDPARTY_CIPHER)
    assert (profile["kdf"], profile["cipher"]) == (THIRDPARTY_KDF, THIRDPARTY_CIPHER)

    # another client re-derives the same keys from the profile and the phrase
    again = hierarchy_from_profile(TENANT, profile, PHRASE)
    assert again.master_kek == admin.master_kek
    assert again.operational_kek(VERSION) == admin.operational_kek(VERSION)
    with pytest.raises(WrongRecoveryPhraseError):
        hierarchy_from_profile(TENANT, profile, PHRASE + " typo")

    # the Operational KEK travels to a member inside a signed KEK blob
    member = UserKeyPair.generate()
    blob = seal_blob(
        admin.operational_kek(VERSION),
        signing_key=admin.signing_key,
        tenant_id=TENANT,
        user_id="member",
        version_id=VERSION,
        recipient=member.public,
    )
    op_kek = open_blob(
        blob,
        signing_public_key=admin.signing_public_key,
        tenant_id=TENANT,
        user_id="member",
        version_id=VERSION,
        key_pair=member,
    )
    assert op_kek == admin.operational_kek(VERSION)

    # entries are sealed with the third-party cipher, and its id is in the envelope
    keys = admin.working_keys(VERSION)
    stream = keys.stream_id("payments")
    sealer = EnvelopeSealer(TENANT, VERSION, keys.data_key, cipher=THIRDPARTY_CIPHER)
    envelope = sealer.seal(stream, "AAAAAAAAAAAAAAAAAAAAAA", b'{"event": "refund"}')
    assert parse_envelope(envelope).cipher == THIRDPARTY_CIPHER
    # the member holds only the Operational KEK from its blob
    opener = EnvelopeOpener(TENANT, {VERSION: WorkingKeys(TENANT, VERSION, op_kek).data_key})
    plain = opener.open(envelope, stream_id=stream, entry_id="AAAAAAAAAAAAAAAAAAAAAA")
    assert plain == b'{"event": "refund"}'
    with pytest.raises(DecryptionError):
        opener.open(envelope, stream_id=stream, entry_id="BAAAAAAAAAAAAAAAAAAAAA")


def test_without_the_plugin_the_tenant_cannot_be_derived(monkeypatch: pytest.MonkeyPatch) -> None:
    admin = KeyHierarchy.from_recovery_phrase(TENANT, PHRASE, kdf=THIRDPARTY_KDF)
    profile = build_profile(admin, cipher=THIRDPARTY_CIPHER)
    monkeypatch.setenv("NEURALLOG_PLUGINS_DISABLE", "testplugin")
    reset_plugins()
    try:
        with pytest.raises(UnknownAlgorithmError, match=THIRDPARTY_KDF):
            hierarchy_from_profile(TENANT, profile, PHRASE)
    finally:
        monkeypatch.delenv("NEURALLOG_PLUGINS_DISABLE")
        reset_plugins()
