"""Fuzzing the tenant profile the server serves (``GET /api/tenant``).

The client re-derives its hierarchy from the profile's KDF id and parameters, so the
profile is untrusted input. Allowed outcomes: ``FormatError`` (malformed profile),
``WrongRecoveryPhraseError`` (it does not match the secret), ``InvalidMnemonicError``,
``UnknownAlgorithmError`` (a KDF no installed plugin provides; the message lists them) and
the plugins' documented ``ValueError`` for out-of-range parameters. A profile that differs
from the tenant's in any field the derivation reads must never yield a hierarchy.
The KDF parameters generated here are small so that each example stays cheap.
"""

from __future__ import annotations

import base64
from typing import Any

from fuzzing import FUZZ, JSON, only
from hypothesis import given
from hypothesis import strategies as st

from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.mnemonic import entropy_to_mnemonic
from neurallog.crypto.profile import build_profile, hierarchy_from_profile
from neurallog.errors import (
    FormatError,
    InvalidMnemonicError,
    UnknownAlgorithmError,
    WrongRecoveryPhraseError,
)

TENANT = "fuzz-tenant"
PHRASE = "correct horse battery staple fuzz"
MNEMONIC = entropy_to_mnemonic(bytes(range(16)))
PHRASE_HIERARCHY = KeyHierarchy.from_recovery_phrase(
    TENANT, PHRASE, kdf="pbkdf2-sha256", params={"iterations": 2}
)
MNEMONIC_HIERARCHY = KeyHierarchy.from_mnemonic(TENANT, MNEMONIC)
PROFILES = {
    "phrase": (build_profile(PHRASE_HIERARCHY), PHRASE, PHRASE_HIERARCHY),
    "mnemonic": (build_profile(MNEMONIC_HIERARCHY), MNEMONIC, MNEMONIC_HIERARCHY),
}
ERRORS = (
    FormatError,
    WrongRecoveryPhraseError,
    InvalidMnemonicError,
    UnknownAlgorithmError,
    ValueError,
)
KDFS = ["pbkdf2-sha256", "scrypt", "argon2id", "bip39", "neurallog-legacy", "nope", ""]
SMALL = st.integers(-3, 16) | st.sampled_from([2**31, 2**64, 1.5, "2", None, True, [], {}])
PARAMS = st.dictionaries(
    st.sampled_from(["iterations", "n", "r", "p", "m", "t", "salt"]) | st.text(max_size=8),
    SMALL,
    max_size=4,
)


def test_the_fixtures_derive() -> None:
    for profile, secret, hierarchy in PROFILES.values():
        derived = hierarchy_from_profile(TENANT, profile, secret)
        assert derived.master_kek == hierarchy.master_kek


def _cheap(profile: dict[str, Any]) -> bool:
    """Whether deriving with this profile stays cheap (defaults of argon2/scrypt are not)."""
    params = profile.get("kdf_params")
    kdf = profile.get("kdf")
    if not isinstance(params, dict):
        return True
    costly = {
        "argon2id": ("m", "t", "p"),
        "scrypt": ("n", "r", "p"),
        "pbkdf2-sha256": ("iterations",),
        "neurallog-legacy": (),
    }
    if kdf == "neurallog-legacy":
        return False
    return all(name in params for name in costly.get(str(kdf), ()))


@st.composite
def mutated_profile(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    kind = draw(st.sampled_from(sorted(PROFILES)))
    profile = dict(PROFILES[kind][0])
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from([*sorted(profile), "extra"]))
        choice = draw(st.integers(0, 3))
        if choice == 0:
            profile.pop(name, None)
        elif name == "kdf":
            profile[name] = draw(st.sampled_from(KDFS) | JSON)
        elif name == "kdf_params" and choice == 1 and isinstance(profile[name], dict):
            params = dict(profile[name])  # one parameter's value changed, the rest kept
            params[draw(st.sampled_from([*params, "iterations", "x"]))] = draw(SMALL | JSON)
            profile[name] = params
        elif name == "kdf_params":
            profile[name] = draw(PARAMS | JSON)
        elif name in ("key_check", "signing_public_key") and choice == 1:
            profile[name] = draw(st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()))
        else:
            profile[name] = draw(JSON | st.sampled_from(["phrase", "mnemonic", "x25519"]))
    return kind, profile


@FUZZ
@given(mutated_profile(), st.booleans())
def test_mutated_profile(case: tuple[str, dict[str, Any]], right_secret: bool) -> None:
    kind, profile = case
    if not _cheap(profile):
        profile = {**profile, "kdf": "nope"}
    original, secret, hierarchy = PROFILES[kind]
    if not right_secret:
        secret = PROFILES["mnemonic" if kind == "phrase" else "phrase"][1]
    ok, result = only(ERRORS, hierarchy_from_profile, TENANT, profile, secret)
    if ok:
        assert result.master_kek == hierarchy.master_kek, "a changed profile derived other keys"
        for field in ("kdf", "secret_kind", "signing_public_key"):
            assert profile[field] == original[field]
        # withheld (non-admins get null) is allowed: the signing key then decides
        assert profile.get("key_check") in (None, original["key_check"])


@FUZZ
@given(JSON | st.dictionaries(st.sampled_from(sorted(PROFILES["phrase"][0])), JSON, max_size=7))
# a non-object profile is in scope too: the server's JSON can be anything
def test_arbitrary_profile(profile: Any) -> None:
    if isinstance(profile, dict) and not _cheap(profile):
        profile = {**profile, "kdf": "nope"}
    ok, _ = only(ERRORS, hierarchy_from_profile, TENANT, profile, PHRASE)
    assert not ok
