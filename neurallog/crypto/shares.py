"""SLIP-39 recovery shares of a tenant's BIP-39 mnemonic (M-of-N, optionally in groups).

The secret split is the mnemonic's *entropy* (32 bytes for 24 words), the natural SLIP-39
master secret: combining the shares gives back exactly the words, so everything derived
from them stays as it was, and any SLIP-39 tool (Trezor's ``shamir`` command) recovers the
same entropy. The arithmetic and the share encoding are Trezor's reference library
``shamir-mnemonic``; this module adds the checks and the error messages, which name share
and word *positions*, never a word (errors end up in logs).
"""

from __future__ import annotations

import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shamir_mnemonic import EncryptedMasterSecret, MnemonicError, Share, split_ems
from shamir_mnemonic.shamir import ShareGroup, recover_ems
from shamir_mnemonic.share import ShareCommonParameters
from shamir_mnemonic.wordlist import WORD_INDEX_MAP

from neurallog.crypto.mnemonic import entropy_to_mnemonic, mnemonic_to_entropy
from neurallog.errors import (
    DuplicateShareError,
    InvalidShareError,
    MixedSharesError,
    NotEnoughSharesError,
)

MAX_SHARES = 16
"""SLIP-39 encodes group and member counts in 4 bits: at most 16 of each."""
DEFAULT_ITERATION_EXPONENT = 1
"""PBKDF2 rounds of the SLIP-39 passphrase cipher: 10000 * 2**e in total (reference default)."""
MIN_SHARE_WORDS = 20
BIP39_ENTROPY_SIZES = (16, 20, 24, 28, 32)


@dataclass(frozen=True)
class ShareScheme:
    """How to split: ``groups`` of ``(threshold, count)``, ``group_threshold`` of them needed.

    The default is one group, 2 of 3 shares. Two groups both needed, e.g. 2-of-3 directors
    and 1-of-1 escrow, is ``ShareScheme(((2, 3), (1, 1)), group_threshold=2)``.
    """

    groups: tuple[tuple[int, int], ...] = ((2, 3),)
    group_threshold: int = 1
    iteration_exponent: int = DEFAULT_ITERATION_EXPONENT

    def __post_init__(self) -> None:
        groups = tuple((int(m), int(n)) for m, n in self.groups)
        object.__setattr__(self, "groups", groups)
        if not 1 <= len(groups) <= MAX_SHARES:
            raise ValueError(f"a share scheme has 1 to {MAX_SHARES} groups")
        if not 1 <= self.group_threshold <= len(groups):
            raise ValueError(
                f"group threshold must be between 1 and the number of groups ({len(groups)})"
            )
        for number, (threshold, count) in enumerate(groups, start=1):
            if not 1 <= threshold <= count <= MAX_SHARES:
                raise ValueError(
                    f"group {number}: need 1 <= threshold <= count <= {MAX_SHARES}, "
                    f"got {threshold} of {count}"
                )
            if threshold == 1 and count > 1:
                raise ValueError(
                    f"group {number}: 1-of-{count} would be {count} copies of the same "
                    "secret; SLIP-39 allows threshold 1 only with a single share"
                )
        if not 0 <= self.iteration_exponent <= 15:
            raise ValueError("iteration exponent must be between 0 and 15")

    def describe(self) -> str:
        """``"2 of 3 shares"`` or ``"2 of 2 groups: 2 of 3, 1 of 1"``."""
        if len(self.groups) == 1:
            threshold, count = self.groups[0]
            return f"{threshold} of {count} shares"
        parts = ", ".join(f"{m} of {n}" for m, n in self.groups)
        return f"{self.group_threshold} of {len(self.groups)} groups: {parts}"


def _passphrase_bytes(passphrase: str) -> bytes:
    if not isinstance(passphrase, str):
        raise TypeError("passphrase must be a str")
    if not all(32 <= ord(c) <= 126 for c in passphrase):
        raise ValueError("a SLIP-39 passphrase has printable ASCII characters only")
    return passphrase.encode("ascii")


def split_mnemonic(
    mnemonic: str, scheme: ShareScheme | None = None, *, passphrase: str = ""
) -> list[list[str]]:
    """Split a BIP-39 mnemonic's entropy into SLIP-39 shares: one list of shares per group."""
    scheme = scheme or ShareScheme()
    entropy = mnemonic_to_entropy(mnemonic)  # InvalidMnemonicError names the problem
    identifier = secrets.randbits(15)  # SLIP-39: a random 15-bit identifier per split
    ems = EncryptedMasterSecret.from_master_secret(
        entropy, _passphrase_bytes(passphrase), identifier, True, scheme.iteration_exponent
    )
    grouped = split_ems(scheme.group_threshold, scheme.groups, ems)
    return [[share.mnemonic() for share in group] for group in grouped]


def _normalise(text: str) -> str:
    if not isinstance(text, str):
        raise TypeError("a share must be a str")
    return " ".join(unicodedata.normalize("NFKD", text).lower().split())


def parse_share(text: str, *, number: int | None = None) -> Share:
    """Decode one share; ``InvalidShareError`` names the share number and word position."""
    which = f"share {number}" if number is not None else "the share"
    words = _normalise(text).split()
    if not words:
        raise InvalidShareError(f"{which} is empty")
    for position, word in enumerate(words, start=1):
        if word not in WORD_INDEX_MAP:
            raise InvalidShareError(
                f"{which}: word {position} is not in the SLIP-39 word list "
                "(a BIP-39 mnemonic is not a share)"
            )
    if len(words) < MIN_SHARE_WORDS:
        raise InvalidShareError(
            f"{which} has {len(words)} words; a SLIP-39 share has at least {MIN_SHARE_WORDS}"
        )
    try:
        return Share.from_mnemonic(" ".join(words))
    except MnemonicError as exc:
        reason = str(exc).lower()
        if "checksum" in reason:
            detail = "its checksum does not match: a word is wrong or out of order"
        elif "length" in reason:
            detail = "it has the wrong number of words"
        elif "padding" in reason:
            detail = "its padding is invalid: a word is wrong"
        else:
            detail = "its header is invalid: a word is wrong"
        raise InvalidShareError(f"{which} is not a valid SLIP-39 share: {detail}") from None


@dataclass(frozen=True)
class GroupProgress:
    """One group's state: ``entered`` shares of the ``threshold`` it needs (0 if unknown)."""

    index: int
    entered: int
    threshold: int

    @property
    def complete(self) -> bool:
        return self.threshold > 0 and self.entered >= self.threshold


@dataclass(frozen=True)
class ShareProgress:
    """How far a recovery is: per group, and how many groups are complete of how many needed."""

    entered: int
    group_threshold: int
    group_count: int
    groups: tuple[GroupProgress, ...]

    @property
    def groups_complete(self) -> int:
        return sum(g.complete for g in self.groups)

    @property
    def complete(self) -> bool:
        return self.group_threshold > 0 and self.groups_complete >= self.group_threshold

    def describe(self) -> str:
        """``"1 of 2 shares"``, or per group when the split has more than one group."""
        if not self.groups:
            return "no shares entered yet"
        if self.group_count == 1:
            group = self.groups[0]
            return f"{group.entered} of {group.threshold} shares"
        parts = "; ".join(
            f"group {g.index + 1}: {g.entered} of {g.threshold} shares" for g in self.groups
        )
        return (
            f"{parts}; {self.groups_complete} of {self.group_threshold} groups complete "
            f"({self.group_count} groups in the split)"
        )


@dataclass(eq=False, repr=False)
class ShareCollector:
    """Shares entered one at a time (by different people), checked as each one arrives."""

    _shares: list[Share] = field(default_factory=list)
    _params: ShareCommonParameters | None = None

    def __repr__(self) -> str:
        return f"ShareCollector({self.progress().describe()})"

    def add(self, text: str) -> ShareProgress:
        """Check one share against those already entered and keep it; return the progress."""
        number = len(self._shares) + 1
        share = parse_share(text, number=number)
        if self._params is not None and share.common_parameters() != self._params:
            raise MixedSharesError(
                f"share {number} belongs to a different set of shares than share 1 "
                "(another split, or another tenant): it was not added"
            )
        for earlier_number, earlier in enumerate(self._shares, start=1):
            if earlier.group_index != share.group_index:
                continue
            if earlier.group_parameters() != share.group_parameters():
                raise MixedSharesError(
                    f"share {number} has other group parameters than share "
                    f"{earlier_number} of the same group: the shares come from different splits"
                )
            if earlier.index == share.index:
                if earlier.value == share.value:
                    raise DuplicateShareError(
                        f"share {number} was already entered (as share {earlier_number}); "
                        "enter a different member's share"
                    )
                raise MixedSharesError(
                    f"share {number} has the same member index as share {earlier_number} "
                    "but a different value: the shares come from different splits"
                )
        self._shares.append(share)
        self._params = share.common_parameters()
        return self.progress()

    def progress(self) -> ShareProgress:
        if self._params is None:
            return ShareProgress(0, 0, 0, ())
        groups: dict[int, list[Share]] = {}
        for share in self._shares:
            groups.setdefault(share.group_index, []).append(share)
        return ShareProgress(
            entered=len(self._shares),
            group_threshold=self._params.group_threshold,
            group_count=self._params.group_count,
            groups=tuple(
                GroupProgress(index, len(members), members[0].member_threshold)
                for index, members in sorted(groups.items())
            ),
        )

    def recover(self, passphrase: str = "") -> str:
        """The BIP-39 mnemonic the shares hold; raises ``NotEnoughSharesError`` when short."""
        progress = self.progress()
        if not progress.complete:
            raise NotEnoughSharesError(_missing(progress))
        # Exactly the thresholds: the first complete groups, the first members of each.
        complete = [g for g in progress.groups if g.complete][: progress.group_threshold]
        chosen: dict[int, ShareGroup] = {}
        for group in complete:
            members = [s for s in self._shares if s.group_index == group.index]
            chosen[group.index] = ShareGroup()
            for share in members[: group.threshold]:
                chosen[group.index].add(share)
        try:
            ems = recover_ems(chosen)
        except MnemonicError:
            raise InvalidShareError(
                "the shares do not combine (their digest does not match): one of them was "
                "altered or comes from another split with the same identifier"
            ) from None
        entropy = ems.decrypt(_passphrase_bytes(passphrase))
        if len(entropy) not in BIP39_ENTROPY_SIZES:
            raise InvalidShareError(
                f"these shares hold a {len(entropy)}-byte secret, not a BIP-39 mnemonic's "
                "entropy: they are not NeuralLog recovery shares"
            )
        return entropy_to_mnemonic(entropy)

    def clear(self) -> None:
        """Forget every share entered so far."""
        self._shares.clear()
        self._params = None


def _missing(progress: ShareProgress) -> str:
    if not progress.groups:
        return "no shares were entered"
    if progress.group_count == 1:
        group = progress.groups[0]
        more = group.threshold - group.entered
        return (
            f"not enough shares: {group.entered} of {group.threshold} entered, {more} more needed"
        )
    more_groups = progress.group_threshold - progress.groups_complete
    return (
        f"not enough shares: {progress.describe()}; {more_groups} more group(s) must be completed"
    )


def combine_shares(shares: Iterable[str], *, passphrase: str = "") -> str:
    """Recover the mnemonic from shares given all at once (same checks as one by one)."""
    collector = ShareCollector()
    items: Sequence[str] = list(shares)
    if not items:
        raise NotEnoughSharesError("no shares were given")
    for text in items:
        collector.add(text)
    return collector.recover(passphrase)
