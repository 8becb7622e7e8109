"""SLIP-39 shares of the tenant mnemonic: reference vectors, splits, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from neurallog.crypto.mnemonic import generate_mnemonic, mnemonic_to_entropy
from neurallog.crypto.shares import ShareCollector, ShareScheme, combine_shares, split_mnemonic
from neurallog.errors import (
    DuplicateShareError,
    InvalidMnemonicError,
    InvalidShareError,
    MixedSharesError,
    NotEnoughSharesError,
    ShareError,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "slip39_trezor.json").read_text("utf-8")
)
# A fixed mnemonic (BIP-39 reference vector) whose first word is not a SLIP-39 word: a
# random one sometimes starts with a word both lists share, and the error names another word.
MNEMONIC = " ".join(["abandon"] * 23 + ["art"])


def test_slip39_has_all_reference_vectors() -> None:
    assert len(VECTORS["vectors"]) == 45
    assert sum(1 for v in VECTORS["vectors"] if v[2]) >= 15


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v[0].split(".")[0])
def test_slip39_reference_vectors(vector: list[Any]) -> None:
    """Known answers from Trezor's reference set; every invalid set is a ShareError."""
    description, shares, secret, _xprv = vector
    if secret:
        mnemonic = combine_shares(shares, passphrase=VECTORS["passphrase"])
        assert mnemonic_to_entropy(mnemonic).hex() == secret, description
    else:
        with pytest.raises(ShareError) as caught:
            combine_shares(shares, passphrase=VECTORS["passphrase"])
        for share in shares:  # errors name positions, never a share's words
            assert share not in str(caught.value)
            assert " ".join(share.split()[:3]) not in str(caught.value)


def test_split_and_recover_2_of_3_every_pair() -> None:
    (group,) = split_mnemonic(MNEMONIC)
    assert len(group) == 3 and all(len(s.split()) == 33 for s in group)
    for i in range(3):
        for j in range(3):
            if i != j:
                assert combine_shares([group[i], group[j]]) == MNEMONIC
    assert combine_shares(group) == MNEMONIC  # more than the threshold is fine


def test_split_and_recover_two_groups_with_passphrase() -> None:
    scheme = ShareScheme(((2, 3), (1, 1)), group_threshold=2)
    directors, escrow = split_mnemonic(MNEMONIC, scheme, passphrase="correct horse")
    assert (len(directors), len(escrow)) == (3, 1)
    collector = ShareCollector()
    assert collector.add(escrow[0]).describe().startswith("group 2: 1 of 1 shares")
    progress = collector.add(directors[2])
    assert not progress.complete and progress.groups_complete == 1
    with pytest.raises(NotEnoughSharesError, match="1 more group"):
        collector.recover("correct horse")
    assert collector.add(directors[0]).complete
    assert collector.recover("correct horse") == MNEMONIC
    # A wrong SLIP-39 passphrase yields another (valid-looking) mnemonic, by design:
    # the tenant's key-check value is what rejects it (see the client tests).
    assert collector.recover("wrong horse") != MNEMONIC


def test_progress_one_group() -> None:
    (group,) = split_mnemonic(MNEMONIC, ShareScheme(((3, 5),)))
    collector = ShareCollector()
    assert collector.progress().describe() == "no shares entered yet"
    assert collector.add(group[4]).describe() == "1 of 3 shares"
    assert collector.add(group[1]).describe() == "2 of 3 shares"
    with pytest.raises(NotEnoughSharesError, match=r"2 of 3 entered, 1 more needed"):
        collector.recover()
    assert collector.add(group[0]).complete
    assert collector.recover() == MNEMONIC
    assert "shares" in repr(collector) and group[0] not in repr(collector)


def test_wrong_share_is_invalid() -> None:
    (group,) = split_mnemonic(MNEMONIC)
    words = group[1].split()
    words[7] = "academic" if words[7] != "academic" else "acid"
    collector = ShareCollector()
    collector.add(group[0])
    with pytest.raises(InvalidShareError, match=r"share 2 .*checksum") as caught:
        collector.add(" ".join(words))
    assert words[7] not in str(caught.value).split()
    with pytest.raises(InvalidShareError, match="word 3 is not in the SLIP-39 word list"):
        collector.add(" ".join([*words[:2], "zzzz", *words[3:]]))
    with pytest.raises(InvalidShareError, match="word 1 is not in the SLIP-39"):
        collector.add(MNEMONIC)  # the BIP-39 words are not a share
    assert collector.progress().entered == 1  # nothing wrong was kept


def test_duplicate_share() -> None:
    (group,) = split_mnemonic(MNEMONIC)
    collector = ShareCollector()
    collector.add(group[0])
    with pytest.raises(DuplicateShareError, match="already entered"):
        collector.add("  " + group[0].upper() + " ")
    with pytest.raises(DuplicateShareError):
        combine_shares([group[2], group[2]])


def test_mixed_sets() -> None:
    """Shares of two splits of the same words, and of another tenant, never combine."""
    (first,) = split_mnemonic(MNEMONIC)
    (second,) = split_mnemonic(MNEMONIC)
    (other,) = split_mnemonic(generate_mnemonic(256))
    for stranger in (second[1], other[1]):
        with pytest.raises(MixedSharesError, match="different set of shares"):
            combine_shares([first[0], stranger])


def test_too_few_shares() -> None:
    (group,) = split_mnemonic(MNEMONIC)
    with pytest.raises(NotEnoughSharesError, match="1 of 2 entered, 1 more needed"):
        combine_shares(group[:1])
    with pytest.raises(NotEnoughSharesError, match="no shares"):
        combine_shares([])


@pytest.mark.parametrize(
    ("groups", "threshold", "message"),
    [
        (((3, 2),), 1, "threshold <= count"),
        (((1, 3),), 1, "1-of-3 would be 3 copies"),
        (((2, 3),), 2, "group threshold"),
        (((2, 17),), 1, "<= 16"),
        ((), 1, "1 to 16 groups"),
    ],
)
def test_bad_schemes(groups: tuple[tuple[int, int], ...], threshold: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ShareScheme(groups, group_threshold=threshold)


def test_split_checks_its_input() -> None:
    with pytest.raises(InvalidMnemonicError):
        split_mnemonic("not a mnemonic")
    with pytest.raises(ValueError, match="printable ASCII"):
        split_mnemonic(MNEMONIC, passphrase="pässword")
    with pytest.raises(ValueError, match="iteration exponent"):
        ShareScheme(iteration_exponent=16)
    assert ShareScheme().describe() == "2 of 3 shares"
    assert ShareScheme(((2, 3), (1, 1)), group_threshold=2).describe() == (
        "2 of 2 groups: 2 of 3, 1 of 1"
    )


def test_twelve_word_mnemonics_split_too() -> None:
    short = generate_mnemonic(128)
    (group,) = split_mnemonic(short, ShareScheme(((2, 2),), iteration_exponent=0))
    assert len(group[0].split()) == 20
    assert combine_shares(group) == short
