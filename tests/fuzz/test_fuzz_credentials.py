"""Fuzzing the text decoders a user pastes or a request carries: API keys, bearer
credentials, bootstrap tokens and BIP-39 mnemonics.

Only ``InvalidApiKeyError`` (credentials) and ``InvalidMnemonicError`` (mnemonics) may
escape; a parse error never echoes the secret part; whatever parses is canonical (it
prints back to the same text). Mnemonic validity is checked against the trezor reference
implementation (the ``mnemonic`` package) as an independent oracle.
"""

from __future__ import annotations

import base64
import os

from fuzzing import FUZZ, only
from hypothesis import given
from hypothesis import strategies as st
from mnemonic import Mnemonic

from neurallog.crypto.apikeys import ApiKey, BearerCredential, BootstrapToken
from neurallog.crypto.mnemonic import (
    entropy_to_mnemonic,
    mnemonic_to_entropy,
    validate_mnemonic,
    wordlist,
)
from neurallog.errors import InvalidApiKeyError, InvalidMnemonicError

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
FPR = base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
VALID_KEY = ApiKey.generate("fuzz-tenant", FPR)


def _part(draw: st.DrawFn) -> str:
    return draw(
        st.sampled_from(["fuzz-tenant", os.urandom(16).hex(), FPR, "", "ab"])
        | st.text(alphabet=B64URL, min_size=0, max_size=50)
        | st.text(alphabet=B64URL, min_size=42, max_size=44)
        | st.text(max_size=20)
    )


@st.composite
def credential_like(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["nlk1", "nla1", "nlb1", "NLK1", "nlk2", ""]))
    parts = [prefix] + [_part(draw) for _ in range(draw(st.integers(0, 6)))]
    pad = draw(st.sampled_from(["", " ", "\n", "\t", "\u00a0"]))
    return pad + ".".join(parts) + pad


@st.composite
def near_valid(draw: st.DrawFn) -> str:
    """A valid key, bearer or token with one character changed, added or removed."""
    text = draw(
        st.sampled_from(
            [
                VALID_KEY.to_string(),
                VALID_KEY.bearer_credential(),
                BootstrapToken.generate("fuzz-tenant").to_string(),
            ]
        )
    )
    i = draw(st.integers(0, len(text)))
    change = draw(st.sampled_from(["drop", "insert", "replace"]))
    ch = draw(st.characters() | st.sampled_from(list(B64URL + ".=+/ ")))
    if change == "drop":
        return text[:i] + text[i + 1 :]
    if change == "insert":
        return text[:i] + ch + text[i:]
    return text[:i] + ch + text[i + 1 :]


TEXT = st.text(max_size=200) | credential_like() | near_valid()


def _secret_parts(text: str) -> list[str]:
    return [p for p in text.strip().split(".") if len(p) >= 16]


@FUZZ
@given(TEXT)
def test_api_key_parse(text: str) -> None:
    ok, result = only((InvalidApiKeyError,), ApiKey.parse, text)
    if ok:
        assert result.to_string() == text.strip()
        assert len(result.secret) == 32
        assert b"=" not in result.to_string().encode()
    else:
        parts = text.strip().split(".")
        if len(parts) > 3:
            assert parts[3] not in str(result) or len(parts[3]) < 8, "error echoes the secret"


@FUZZ
@given(TEXT)
def test_bearer_parse(text: str) -> None:
    ok, result = only((InvalidApiKeyError,), BearerCredential.parse, text)
    if ok:
        assert len(result.auth_token) == 32
        assert f"nla1.{result.tenant_id}.{result.key_id}." in text
    else:
        for part in _secret_parts(text)[2:]:
            assert part not in str(result), "error echoes the token"


@FUZZ
@given(TEXT)
def test_bootstrap_token_parse(text: str) -> None:
    ok, result = only((InvalidApiKeyError,), BootstrapToken.parse, text)
    if ok:
        assert result.to_string() == text.strip()
    else:
        for part in _secret_parts(text)[1:]:
            assert part not in str(result), "error echoes the token"


# --- mnemonics ----------------------------------------------------------------------------

REFERENCE = Mnemonic("english")
WORDS = wordlist()


@st.composite
def word_sequences(draw: st.DrawFn) -> str:
    n = draw(st.sampled_from([12, 15, 18, 21, 24]) | st.integers(0, 30))
    return " ".join(draw(st.lists(st.sampled_from(WORDS), min_size=n, max_size=n)))


@st.composite
def near_valid_mnemonic(draw: st.DrawFn) -> str:
    size = draw(st.sampled_from([16, 20, 24, 28, 32]))
    words = entropy_to_mnemonic(draw(st.binary(min_size=size, max_size=size))).split()
    i = draw(st.integers(0, len(words) - 1))
    change = draw(st.sampled_from(["swap", "typo", "drop", "case", "space"]))
    if change == "swap":
        words[i] = draw(st.sampled_from(WORDS))
    elif change == "typo":
        w = words[i]
        j = draw(st.integers(0, len(w) - 1))
        words[i] = w[:j] + draw(st.characters()) + w[j + 1 :]
    elif change == "drop":
        del words[i]
    elif change == "case":
        words[i] = words[i].upper()
    return draw(st.sampled_from([" ", "  ", "\t", "\u3000"])).join(words)


@FUZZ
@given(st.text(max_size=300) | word_sequences() | near_valid_mnemonic())
def test_mnemonic_validation_agrees_with_reference(text: str) -> None:
    ok, result = only((InvalidMnemonicError,), validate_mnemonic, text)
    normalized = " ".join(text.lower().split())
    if not normalized.isascii():  # no word of the list is; the reference wants NFKD ascii
        assert not ok
        return
    assert ok == REFERENCE.check(normalized), (ok, result)
    if ok:
        assert result == normalized
        assert mnemonic_to_entropy(text) == bytes(REFERENCE.to_entropy(normalized))
