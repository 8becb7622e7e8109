"""The phrase rule for new tenants (zxcvbn estimate) and a profile without key-check value."""

from __future__ import annotations

import pytest

from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.profile import build_profile, hierarchy_from_profile
from neurallog.crypto.strength import (
    PHRASE_MIN_GUESSES_LOG10,
    estimate_guesses_log10,
    require_new_tenant_kdf,
    require_new_tenant_secret,
    require_strong_phrase,
)
from neurallog.errors import WeakKdfError, WeakPhraseError, WrongRecoveryPhraseError

STRONG = "staple battery horse correct under the old oak tree at noon"
WEAK = ["correct horse battery", "p q r", "password password password", "Tr0ub4dor&3"]


@pytest.mark.parametrize("phrase", WEAK)
def test_weak_phrase_refused_with_estimate_and_rule_never_the_phrase(phrase: str) -> None:
    with pytest.raises(WeakPhraseError) as info:
        require_strong_phrase(phrase)
    message = str(info.value)
    estimate = estimate_guesses_log10(phrase)
    assert f"estimated 10^{estimate:.1f} guesses" in message
    assert f"the rule is at least 10^{PHRASE_MIN_GUESSES_LOG10}" in message
    assert phrase not in message and phrase not in repr(info.value)
    for word in phrase.split():
        if len(word) > 3:
            assert word not in message


def test_strong_phrase_accepted() -> None:
    assert estimate_guesses_log10(STRONG) >= PHRASE_MIN_GUESSES_LOG10
    require_strong_phrase(STRONG)


def test_tenant_id_counts_as_a_known_word() -> None:
    phrase = "globex-industries-logging-secret"
    assert estimate_guesses_log10(phrase, ["globex-industries"]) < estimate_guesses_log10(phrase)


def test_only_the_start_of_a_long_phrase_is_estimated() -> None:
    """zxcvbn is quadratic in the length: a very long phrase is not slow, and not refused."""
    long_phrase = STRONG + " " + "and so on " * 500
    require_strong_phrase(long_phrase)


def test_kdf_checked_before_phrase() -> None:
    with pytest.raises(WeakKdfError, match="iterations>=600000"):
        require_new_tenant_secret(STRONG, "pbkdf2-sha256", {"iterations": 1})
    with pytest.raises(WeakKdfError, match="reading old data"):
        require_new_tenant_kdf("neurallog-legacy", None)
    with pytest.raises(WeakPhraseError):
        require_new_tenant_secret("p q r", "argon2id", None, hints=("acme",))
    require_new_tenant_secret(STRONG, "argon2id", None, hints=("acme", "admin"))


def test_profile_without_key_check_still_tells_a_wrong_phrase() -> None:
    """Non-admins get ``key_check: null``: the signing public key decides instead."""
    h = KeyHierarchy.from_recovery_phrase(
        "acme", STRONG, kdf="pbkdf2-sha256", params={"iterations": 1}
    )
    profile = {**build_profile(h), "key_check": None}
    again = hierarchy_from_profile("acme", profile, STRONG)
    assert again.master_kek == h.master_kek
    with pytest.raises(WrongRecoveryPhraseError):
        hierarchy_from_profile("acme", profile, STRONG + " x")
