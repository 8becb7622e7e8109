"""BIP-39 validation errors name the problem; generation round-trips."""

from __future__ import annotations

import pytest

from neurallog.crypto.mnemonic import (
    entropy_to_mnemonic,
    generate_mnemonic,
    mnemonic_to_entropy,
    mnemonic_to_seed,
    validate_mnemonic,
)
from neurallog.errors import InvalidMnemonicError

VALID = "legal winner thank year wave sausage worth useful legal winner thank yellow"


@pytest.mark.parametrize("strength", [128, 160, 192, 224, 256])
def test_generate_has_right_length_and_validates(strength: int) -> None:
    m = generate_mnemonic(strength)
    assert len(m.split()) == strength // 32 * 3
    assert validate_mnemonic(m) == m
    assert entropy_to_mnemonic(mnemonic_to_entropy(m)) == m


def test_generate_default_is_24_words_and_random() -> None:
    assert len(generate_mnemonic().split()) == 24
    assert generate_mnemonic() != generate_mnemonic()


def test_bad_word_is_named_by_position_with_a_suggestion_outside_the_message() -> None:
    with pytest.raises(InvalidMnemonicError, match=r"word 3 is not in the BIP-39") as e:
        validate_mnemonic(VALID.replace("thank", "thnak", 1))
    # The message goes to logs: it names no word of the secret, not even the suggestion.
    assert "thnak" not in str(e.value) and "thank" not in str(e.value)
    assert "thnak" not in repr(e.value) and "thank" not in repr(e.value)
    assert (e.value.position, e.value.suggestion) == (3, "thank")


def test_bad_word_without_close_match() -> None:
    with pytest.raises(InvalidMnemonicError, match=r"word 1 is not in the BIP-39") as e:
        validate_mnemonic("qqqqqq " + " ".join(VALID.split()[1:]))
    assert "qqqqqq" not in str(e.value) and e.value.suggestion == ""


def test_wrong_word_count() -> None:
    with pytest.raises(InvalidMnemonicError, match="has 11"):
        validate_mnemonic(" ".join(VALID.split()[:11]))


def test_bad_checksum() -> None:
    words = VALID.split()
    words[-1] = "zoo"
    with pytest.raises(InvalidMnemonicError, match="checksum"):
        validate_mnemonic(" ".join(words))


def test_normalisation_of_case_and_whitespace() -> None:
    messy = "  " + VALID.upper().replace(" ", " \t ") + "\n"
    assert validate_mnemonic(messy) == VALID
    assert mnemonic_to_seed(messy, "x") == mnemonic_to_seed(VALID, "x")


def test_invalid_entropy_and_strength() -> None:
    with pytest.raises(ValueError):
        entropy_to_mnemonic(b"\x00" * 15)
    with pytest.raises(ValueError):
        generate_mnemonic(100)


def test_invalid_mnemonic_error_is_value_error() -> None:
    assert issubclass(InvalidMnemonicError, ValueError)
