"""Fuzzing the entry decoders: v1 envelopes and the original SDK's legacy entries.

Both take bytes the server hands back. Only ``FormatError``, ``DecryptionError`` and (for an
envelope of a version the opener lacks) ``NoAccessToVersionError`` may escape, and no
changed input may ever open: a successful open of a mutated entry would be plaintext that
was never encrypted.
"""

from __future__ import annotations

import base64
import os
from typing import Any

from fuzzing import FUZZ, JSON, mutated, only
from hypothesis import given
from hypothesis import strategies as st

from neurallog.crypto.envelope import EnvelopeOpener, EnvelopeSealer, parse_envelope
from neurallog.crypto.legacy import legacy_data_key, open_entry
from neurallog.crypto.working import new_entry_id, stream_id
from neurallog.errors import DecryptionError, FormatError, NoAccessToVersionError

TENANT = "fuzz-tenant"
V1 = "a06e050b-8cbe-44b8-98d4-95069e4d750b"
V2 = "0b7b9f4e-2a61-4c8e-9d0f-3e5a7c1b2d4f"
KEYS = {V1: os.urandom(32), V2: os.urandom(32)}
STREAM = stream_id(os.urandom(32), "app")
ENTRY = new_entry_id()
CIPHERS = ("aes-256-gcm", "chacha20-poly1305", "aes-256-gcm-siv")
PLAINTEXT = b"\x01s the quick brown fox"
SEALED = {
    c: EnvelopeSealer(TENANT, V1, KEYS[V1], cipher=c).seal(STREAM, ENTRY, PLAINTEXT)
    for c in CIPHERS
}
OPEN_ERRORS = (FormatError, DecryptionError, NoAccessToVersionError)


def _opener() -> EnvelopeOpener:
    return EnvelopeOpener(TENANT, KEYS)


def test_the_sealed_fixtures_open() -> None:
    """The fixtures the fuzzers mutate are themselves valid (so a failure means something)."""
    for cipher, envelope in SEALED.items():
        assert parse_envelope(envelope).cipher == cipher
        assert _opener().open(envelope, stream_id=STREAM, entry_id=ENTRY) == PLAINTEXT


def _header(draw: st.DrawFn) -> bytes:
    """Bytes that look like an envelope header often enough to reach the deep branches."""
    cipher = draw(st.sampled_from(CIPHERS) | st.text(max_size=12)).encode("utf-8", "replace")
    version = draw(st.sampled_from([V1, V2]) | st.text(max_size=40)).encode("utf-8", "replace")
    fmt = draw(st.sampled_from([1, 1, 1, 0, 2, 255]))
    n_c = draw(st.sampled_from([len(cipher), len(cipher) % 256]) | st.integers(0, 255))
    n_v = draw(st.sampled_from([len(version), len(version) % 256]) | st.integers(0, 255))
    return bytes([fmt, n_c % 256]) + cipher + bytes([n_v % 256]) + version


@st.composite
def envelope_like(draw: st.DrawFn) -> bytes:
    return _header(draw) + draw(st.binary(max_size=80))


@FUZZ
@given(st.binary(max_size=300) | envelope_like())
def test_parse_envelope_arbitrary_bytes(data: bytes) -> None:
    ok, header = only((FormatError,), parse_envelope, data)
    if ok:
        assert header.header + header.ciphertext == data


@FUZZ
@given(
    data=st.binary(max_size=300) | envelope_like(),
    version=st.none() | st.sampled_from([V1, V2, "x"]),
)
def test_open_arbitrary_bytes_never_opens(data: bytes, version: str | None) -> None:
    opener = _opener()
    ok, result = only(
        OPEN_ERRORS, opener.open, data, stream_id=STREAM, entry_id=ENTRY, version_id=version
    )
    assert not ok, f"random bytes opened to {result!r}"
    ok, result = only(OPEN_ERRORS, opener.open_many, STREAM, [(ENTRY, data)], version_id=version)
    assert not ok, f"random bytes opened to {result!r}"


@st.composite
def mutated_envelope(draw: st.DrawFn) -> tuple[bytes, bytes]:
    original = SEALED[draw(st.sampled_from(CIPHERS))]
    return original, draw(mutated(original))


@FUZZ
@given(pair=mutated_envelope(), warm=st.booleans(), version=st.sampled_from([None, V1]))
def test_mutated_envelope_never_opens(
    pair: tuple[bytes, bytes], warm: bool, version: str | None
) -> None:
    original, bad = pair
    opener = _opener()
    if warm:  # the opener's batch cache holds the original's prefix
        assert opener.open(original, stream_id=STREAM, entry_id=ENTRY) == PLAINTEXT
    ok, result = only(
        OPEN_ERRORS, opener.open, bad, stream_id=STREAM, entry_id=ENTRY, version_id=version
    )
    assert not ok, f"a mutated envelope opened to {result!r}"
    ok, result = only(OPEN_ERRORS, opener.open_many, STREAM, [(ENTRY, original), (ENTRY, bad)])
    assert not ok, f"a mutated envelope in a page opened to {result!r}"


@FUZZ
@given(
    cipher=st.sampled_from(CIPHERS),
    stream=st.sampled_from([STREAM, stream_id(os.urandom(32), "app")]),
    entry=st.sampled_from([ENTRY, new_entry_id()]) | st.text(max_size=30),
    tenant=st.sampled_from([TENANT, "other-tenant"]),
    version=st.sampled_from([None, V1, V2]),
)
def test_moved_envelope_never_opens(
    cipher: str, stream: str, entry: str, tenant: str, version: str | None
) -> None:
    """An intact envelope presented under any other binding fails closed."""
    binding = (stream, entry, tenant, version)
    opener = EnvelopeOpener(tenant, KEYS)
    ok, result = only(
        OPEN_ERRORS,
        opener.open,
        SEALED[cipher],
        stream_id=stream,
        entry_id=entry,
        version_id=version,
    )
    if binding in {(STREAM, ENTRY, TENANT, None), (STREAM, ENTRY, TENANT, V1)}:
        assert ok and result == PLAINTEXT
    else:
        assert not ok, f"an envelope opened under a foreign binding {binding}"


# --- the original SDK's entries -------------------------------------------------------------

KEK = os.urandom(32)


def _legacy(plaintext: bytes) -> dict[str, Any]:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    iv = os.urandom(12)
    data = AESGCM(legacy_data_key(KEK)).encrypt(iv, plaintext, None)
    return {
        "encrypted": True,
        "algorithm": "aes-256-gcm",
        "iv": base64.b64encode(iv).decode(),
        "data": base64.b64encode(data).decode(),
        "kekVersion": V1,
    }


LEGACY = _legacy(b'{"msg":"hello"}')
LEGACY_ERRORS = (FormatError, DecryptionError)


def test_the_legacy_fixture_opens() -> None:
    assert open_entry(KEK, LEGACY) == b'{"msg":"hello"}'


@FUZZ
@given(JSON | st.dictionaries(st.sampled_from(sorted(LEGACY)), JSON, max_size=5))
def test_legacy_arbitrary_json_never_opens(doc: Any) -> None:
    ok, result = only(LEGACY_ERRORS, open_entry, KEK, doc)
    assert not ok, f"arbitrary JSON opened to {result!r}"


@st.composite
def mutated_legacy(draw: st.DrawFn) -> dict[str, Any]:
    doc = dict(LEGACY)
    name = draw(st.sampled_from(["iv", "data", "encrypted", "algorithm", "drop"]))
    if name in ("iv", "data"):
        raw = base64.b64decode(doc[name])
        doc[name] = draw(
            mutated(raw).map(lambda b: base64.b64encode(b).decode()) | st.text(max_size=40) | JSON
        )
    elif name == "drop":
        del doc[draw(st.sampled_from(sorted(doc)))]
    else:
        doc[name] = draw(JSON.filter(lambda v: v != LEGACY[name]))
    return doc


@FUZZ
@given(mutated_legacy())
def test_mutated_legacy_entry_never_opens(doc: dict[str, Any]) -> None:
    ok, result = only(LEGACY_ERRORS, open_entry, KEK, doc)
    if ok:  # only kekVersion is outside the ciphertext, and it was not changed here
        assert doc == LEGACY or (doc.keys() == {*LEGACY} - {"kekVersion"} and result), result
        assert result == b'{"msg":"hello"}'
