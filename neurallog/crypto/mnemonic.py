"""BIP-39 mnemonics (English): generate, validate with helpful errors, derive the seed.

The word list comes from the ``mnemonic`` package (the trezor reference implementation);
validation is ours so that an error names the bad word, the wrong count or the checksum.
"""

from __future__ import annotations

import difflib
import hashlib
import secrets
import unicodedata
from functools import lru_cache

from mnemonic import Mnemonic

from neurallog.errors import InvalidMnemonicError

VALID_STRENGTHS = (128, 160, 192, 224, 256)
VALID_WORD_COUNTS = (12, 15, 18, 21, 24)
SEED_ITERATIONS = 2048


@lru_cache(maxsize=1)
def _reference() -> Mnemonic:
    return Mnemonic("english")


@lru_cache(maxsize=1)
def wordlist() -> tuple[str, ...]:
    """The 2048 BIP-39 English words, in index order."""
    words = tuple(_reference().wordlist)
    assert len(words) == 2048
    return words


@lru_cache(maxsize=1)
def _index() -> dict[str, int]:
    return {word: i for i, word in enumerate(wordlist())}


def normalize_mnemonic(mnemonic: str) -> str:
    """NFKD, lower case, trimmed, single spaces: the form fed to the seed derivation."""
    if not isinstance(mnemonic, str):
        raise TypeError("mnemonic must be a str")
    return " ".join(unicodedata.normalize("NFKD", mnemonic).lower().split())


def entropy_to_mnemonic(entropy: bytes) -> str:
    """Encode 16/20/24/28/32 bytes of entropy as a BIP-39 sentence."""
    if not isinstance(entropy, bytes | bytearray):
        raise TypeError("entropy must be bytes")
    if len(entropy) * 8 not in VALID_STRENGTHS:
        raise ValueError("entropy must be 16, 20, 24, 28 or 32 bytes")
    bits = len(entropy) * 8
    checksum_bits = bits // 32
    digest = hashlib.sha256(entropy).digest()
    value = (int.from_bytes(entropy, "big") << checksum_bits) | (digest[0] >> (8 - checksum_bits))
    count = (bits + checksum_bits) // 11
    words = wordlist()
    return " ".join(words[(value >> (11 * (count - 1 - i))) & 0x7FF] for i in range(count))


def generate_mnemonic(strength: int = 256) -> str:
    """A fresh mnemonic from ``strength`` bits of OS randomness (default 24 words)."""
    if strength not in VALID_STRENGTHS:
        raise ValueError(f"strength must be one of {VALID_STRENGTHS}")
    return entropy_to_mnemonic(secrets.token_bytes(strength // 8))


def _suggest(word: str) -> str:
    words = wordlist()
    if len(word) >= 4:
        prefixed = [w for w in words if w.startswith(word[:4])]
        if len(prefixed) == 1:
            return prefixed[0]
    close = difflib.get_close_matches(word, words, n=1, cutoff=0.75)
    return close[0] if close else ""


def mnemonic_to_entropy(mnemonic: str) -> bytes:
    """Validate ``mnemonic`` and return its entropy; ``InvalidMnemonicError`` says why not."""
    words = normalize_mnemonic(mnemonic).split()
    if len(words) not in VALID_WORD_COUNTS:
        raise InvalidMnemonicError(
            f"a mnemonic has 12, 15, 18, 21 or 24 words, this one has {len(words)}"
        )
    index = _index()
    value = 0
    for position, word in enumerate(words, start=1):
        if word not in index:
            raise InvalidMnemonicError(
                f"word {position} is not in the BIP-39 English word list (check its spelling)",
                position=position,
                suggestion=_suggest(word),
            )
        value = (value << 11) | index[word]
    total_bits = len(words) * 11
    checksum_bits = total_bits // 33
    entropy_bits = total_bits - checksum_bits
    entropy = (value >> checksum_bits).to_bytes(entropy_bits // 8, "big")
    expected = hashlib.sha256(entropy).digest()[0] >> (8 - checksum_bits)
    if value & ((1 << checksum_bits) - 1) != expected:
        raise InvalidMnemonicError(
            "the mnemonic's checksum does not match: a word is wrong or out of order"
        )
    return entropy


def validate_mnemonic(mnemonic: str) -> str:
    """Return the normalised mnemonic, or raise ``InvalidMnemonicError`` naming the problem."""
    mnemonic_to_entropy(mnemonic)
    return normalize_mnemonic(mnemonic)


def mnemonic_to_seed(mnemonic: str, passphrase: str = "") -> bytes:
    """BIP-39 seed: PBKDF2-HMAC-SHA512(NFKD mnemonic, "mnemonic"+NFKD passphrase, 2048, 64)."""
    normalized = validate_mnemonic(mnemonic)
    salt = b"mnemonic" + unicodedata.normalize("NFKD", passphrase).encode("utf-8")
    return hashlib.pbkdf2_hmac("sha512", normalized.encode("utf-8"), salt, SEED_ITERATIONS, 64)
