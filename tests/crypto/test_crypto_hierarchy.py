"""Hierarchy behaviour: normalisation, separation, key check, secrecy of repr, profiles."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.phrases import normalize_phrase
from neurallog.crypto.profile import build_profile, hierarchy_from_profile
from neurallog.errors import FormatError, InvalidMnemonicError, WrongRecoveryPhraseError

FAST: dict[str, Any] = {"iterations": 1}
ARGON_SMALL: dict[str, Any] = {"t": 1, "m": 64, "p": 1}
V1 = "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b"
V2 = "9b2e7c10-5d3f-4a61-b8c2-7e9f0a1b2c3d"
MNEMONIC = "legal winner thank year wave sausage worth useful legal winner thank yellow"


def fast(tenant: str, phrase: str) -> KeyHierarchy:
    return KeyHierarchy.from_recovery_phrase(tenant, phrase, kdf="pbkdf2-sha256", params=FAST)


def test_default_kdf_is_argon2id_with_recorded_params() -> None:
    h = KeyHierarchy.from_recovery_phrase("acme", "a phrase", params=ARGON_SMALL)
    assert h.kdf == "argon2id" and h.kdf_params == ARGON_SMALL and h.secret_kind == "phrase"


def test_phrase_normalisation_equivalents() -> None:
    composed = "caf\u00e9  au\tlait "
    decomposed = " cafe\u0301 au  lait"
    assert normalize_phrase(composed) == normalize_phrase(decomposed)
    assert fast("acme", composed).master_kek == fast("acme", decomposed).master_kek


@pytest.mark.parametrize("empty", ["", "   ", "\t\n", "\u00a0"])
def test_empty_phrase_is_value_error(empty: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        fast("acme", empty)


def test_tenant_and_version_separate_keys() -> None:
    a, b = fast("acme", "same phrase"), fast("acme2", "same phrase")
    assert a.master_kek != b.master_kek
    assert a.operational_kek(V1) != a.operational_kek(V2)
    assert a.operational_kek(V1) != b.operational_kek(V1)
    k = a.working_keys(V1)
    assert len({k.data_key, k.log_index_key, k.search_key, a.operational_kek(V1)}) == 4
    assert k.stream_id("app") != a.working_keys(V2).stream_id("app")
    assert len(k.stream_id("app")) == 43


def test_key_check_accepts_right_and_rejects_wrong_phrase() -> None:
    right = fast("acme", "right phrase")
    right.check(right.key_check)
    with pytest.raises(
        WrongRecoveryPhraseError, match="recovery phrase does not match this tenant"
    ):
        fast("acme", "wrong phrase").check(right.key_check)


def test_keys_never_in_repr_or_str() -> None:
    h = fast("acme", "secret phrase")
    for text in (repr(h), str(h), repr(h.working_keys(V1))):
        for key in (h.master_kek, h.operational_kek(V1), h.key_check):
            assert key.hex() not in text
        assert "secret phrase" not in text


def test_mnemonic_hierarchy_validates_and_depends_on_passphrase() -> None:
    a = KeyHierarchy.from_mnemonic("acme", MNEMONIC)
    assert a.kdf == "bip39" and a.secret_kind == "mnemonic"
    assert a.master_kek != KeyHierarchy.from_mnemonic("acme", MNEMONIC, passphrase="x").master_kek
    assert a.master_kek == KeyHierarchy.from_mnemonic("acme", "  " + MNEMONIC.upper()).master_kek
    with pytest.raises(InvalidMnemonicError):
        KeyHierarchy.from_mnemonic("acme", MNEMONIC.replace("yellow", "yelow"))


def test_legacy_scheme_takes_phrase_verbatim() -> None:
    a = KeyHierarchy.from_recovery_phrase("acme", "p q", kdf="neurallog-legacy")
    b = KeyHierarchy.from_recovery_phrase("acme", "p  q", kdf="neurallog-legacy")
    assert a.scheme == "legacy" and a.master_kek != b.master_kek
    with pytest.raises(ValueError):
        KeyHierarchy.from_recovery_phrase("acme", "  ", kdf="neurallog-legacy")


def test_signing_key_is_deterministic_ed25519() -> None:
    a, b = fast("acme", "p"), fast("acme", "p")
    assert a.signing_public_key == b.signing_public_key and len(a.signing_public_key) == 32
    sig = a.signing_key.sign(b"m")
    b.signing_key.public_key().verify(sig, b"m")
    assert len(a.signing_fingerprint) == 43


def test_profile_round_trip_and_wrong_phrase() -> None:
    h = KeyHierarchy.from_recovery_phrase("acme", "a phrase", params=ARGON_SMALL)
    profile = build_profile(h, kem="mlkem768-x25519")
    assert set(profile) == {
        "kdf", "kdf_params", "cipher", "kem", "secret_kind", "key_check", "signing_public_key"
    }  # fmt: skip
    again = hierarchy_from_profile("acme", profile, " a   phrase ")
    assert again.master_kek == h.master_kek
    with pytest.raises(WrongRecoveryPhraseError):
        hierarchy_from_profile("acme", profile, "another phrase")
    with pytest.raises(FormatError):
        hierarchy_from_profile("acme", {**profile, "key_check": 5}, "a phrase")


def test_profile_mnemonic_round_trip() -> None:
    h = KeyHierarchy.from_mnemonic("acme", MNEMONIC, passphrase="pw")
    profile = build_profile(h)
    assert profile["kdf"] == "bip39" and profile["secret_kind"] == "mnemonic"
    assert (
        hierarchy_from_profile("acme", profile, MNEMONIC, passphrase="pw").key_check == h.key_check
    )
    with pytest.raises(WrongRecoveryPhraseError):
        hierarchy_from_profile("acme", profile, MNEMONIC)


_words = st.lists(
    st.text(alphabet=st.characters(categories=["L", "N"]), min_size=1, max_size=6),
    min_size=1,
    max_size=5,
)
_spaces = st.sampled_from([" ", "  ", "\t", " \n ", "\u3000"])


@settings(max_examples=40, deadline=None)
@given(words=_words, sep=_spaces, pad=_spaces)
def test_property_whitespace_and_unicode_forms_derive_same_keys(
    words: list[str], sep: str, pad: str
) -> None:
    canonical = " ".join(words)
    variant = pad + sep.join(unicodedata.normalize("NFC", w) for w in words) + pad
    assert fast("acme", variant).master_kek == fast("acme", canonical).master_kek


@settings(max_examples=40, deadline=None)
@given(a=_words, b=_words)
def test_property_different_phrases_different_keys(a: list[str], b: list[str]) -> None:
    if normalize_phrase(" ".join(a)) == normalize_phrase(" ".join(b)):
        return
    assert fast("acme", " ".join(a)).master_kek != fast("acme", " ".join(b)).master_kek
