"""Phrase normalisation: equivalent spellings of a phrase must derive the same keys."""

from __future__ import annotations

import unicodedata


def normalize_phrase(phrase: str) -> str:
    """Unicode NFKD, trimmed, every inner run of whitespace collapsed to one space.

    Raises ``ValueError`` for a phrase that is empty after normalisation (and
    ``TypeError`` for a non-string) so no key is ever derived from nothing.
    """
    if not isinstance(phrase, str):
        raise TypeError("phrase must be a str")
    normalized = " ".join(unicodedata.normalize("NFKD", phrase).split())
    if not normalized:
        raise ValueError("recovery phrase is empty")
    return normalized


def phrase_bytes(phrase: str) -> bytes:
    """UTF-8 bytes of the normalised phrase (the KDF input)."""
    return normalize_phrase(phrase).encode("utf-8")
