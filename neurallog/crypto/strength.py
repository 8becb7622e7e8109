"""How strong a new tenant's secret must be, and how weak an existing one is.

Anyone who can read a tenant profile can test phrase guesses offline at the cost of one
KDF run each, so a new tenant needs both a KDF at or above its floor (each KDF plugin
declares its own, ``below_floor``) and a human phrase that a guesser needs at least
``10**PHRASE_MIN_GUESSES_LOG10`` tries for, as zxcvbn estimates it. A BIP-39 mnemonic is
strong by construction (128..256 bits) and is not estimated. Existing tenants below the
floors keep working: :func:`kdf_shortfalls` says why they are weak, for a warning.
The rule and its reasons are in docs/decisions.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from neurallog.errors import NeuralLogError, WeakKdfError, WeakPhraseError

__all__ = [
    "PHRASE_ESTIMATE_CHARS",
    "PHRASE_MIN_GUESSES_LOG10",
    "WeakKdfWarning",
    "estimate_guesses_log10",
    "kdf_shortfalls",
    "require_new_tenant_kdf",
    "require_new_tenant_secret",
    "require_strong_phrase",
    "weak_kdf_message",
]

PHRASE_MIN_GUESSES_LOG10 = 16
"""A new tenant's human phrase needs an estimated 10^16 guesses or more (zxcvbn)."""

PHRASE_ESTIMATE_CHARS = 100
"""zxcvbn is quadratic in the length: only this many leading characters are estimated.

Guessing the whole phrase takes at least as many tries as guessing its start, so the
estimate of a prefix is a lower bound and a long phrase is never refused for its length.
"""


class WeakKdfWarning(UserWarning):
    """The tenant's KDF or its parameters are below the floors for new tenants.

    The tenant still opens; its profile lets anyone who reads it guess the phrase offline
    more cheaply than the floors allow. Move the data to a tenant with a mnemonic (or a
    strong phrase and the default KDF). The message lists each floor that is not met.
    """


def kdf_shortfalls(kdf: str, params: Mapping[str, Any]) -> tuple[str, ...]:
    """Why ``kdf`` with ``params`` is below the floors for new tenants; ``()`` when it is not.

    For an existing profile: a KDF that is not installed, or parameters that do not
    validate, give ``()`` here (unlocking reports those itself).
    """
    from neurallog.plugins import get_kdf

    try:
        plugin = get_kdf(kdf)
        found = plugin.below_floor(dict(params))
    except (NeuralLogError, ValueError, TypeError):
        return ()
    if plugin.legacy_only and not found:
        found = [f"{kdf} is kept for reading old data; new tenants may not use it"]
    return tuple(found)


def weak_kdf_message(tenant_id: str, shortfalls: tuple[str, ...]) -> str:
    """The one warning text the client, the CLI and the console show for a weak tenant."""
    return (
        f"tenant {tenant_id!r} was created below today's KDF floors ("
        + "; ".join(shortfalls)
        + "): whoever reads its profile can guess the phrase offline more cheaply than "
        "allowed now; move its data to a new tenant with a generated mnemonic"
    )


def require_new_tenant_kdf(kdf: str, params: Mapping[str, Any] | None) -> None:
    """Raise :class:`WeakKdfError` unless a new tenant may use ``kdf`` with ``params``."""
    from neurallog.plugins import get_kdf

    plugin = get_kdf(kdf)
    if plugin.legacy_only:
        raise WeakKdfError(
            f"the {kdf} KDF is kept for reading old data and existing tenants; a new tenant "
            "may not use it (use argon2id, the default, or a generated mnemonic)"
        )
    found = plugin.below_floor(dict(params or {}))
    if found:
        raise WeakKdfError("KDF parameters below the floor for new tenants: " + "; ".join(found))


def estimate_guesses_log10(phrase: str, hints: Iterable[str] = ()) -> float:
    """zxcvbn's log10 of the guesses needed for the normalised phrase's first characters.

    ``hints`` (the tenant id, the admin's user id) count as words a guesser knows.
    """
    from zxcvbn import zxcvbn  # type: ignore[import-untyped]

    from neurallog.crypto.phrases import normalize_phrase

    text = normalize_phrase(phrase)[:PHRASE_ESTIMATE_CHARS]
    result = zxcvbn(text, user_inputs=[h for h in hints if h], max_length=PHRASE_ESTIMATE_CHARS)
    return float(result["guesses_log10"])


def require_strong_phrase(phrase: str, hints: Iterable[str] = ()) -> None:
    """Raise :class:`WeakPhraseError` (with the estimate, never the phrase) when too weak."""
    estimate = estimate_guesses_log10(phrase, hints)
    if estimate < PHRASE_MIN_GUESSES_LOG10:
        raise WeakPhraseError(
            f"recovery phrase too weak for a new tenant: estimated 10^{estimate:.1f} guesses "
            f"(zxcvbn); the rule is at least 10^{PHRASE_MIN_GUESSES_LOG10}. Use a longer "
            "phrase of unrelated words, or give no phrase to get a generated 24-word mnemonic"
        )


def require_new_tenant_secret(
    phrase: str, kdf: str, params: Mapping[str, Any] | None, *, hints: Iterable[str] = ()
) -> None:
    """Both checks of a new phrase tenant: the KDF floor first, then the phrase estimate.

    ``hints``: the tenant id and admin user id, which a guesser would try first.
    """
    require_new_tenant_kdf(kdf, params)
    require_strong_phrase(phrase, hints)
