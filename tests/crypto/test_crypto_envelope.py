"""Entry envelopes: round trips, every-byte tamper, swapped bindings, plugin parity."""

from __future__ import annotations

import base64
import itertools
import os
import re
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neurallog.crypto._aead import keyed
from neurallog.crypto.envelope import EnvelopeOpener, EnvelopeSealer, parse_envelope
from neurallog.crypto.working import WorkingKeys, new_entry_id, new_entry_ids, stream_id
from neurallog.errors import CryptoError, DecryptionError, FormatError, NoAccessToVersionError

T, V1, V2 = "acme", "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b", "9b2e7c10-5d3f-4a61-b8c2-7e9f0a1b2c3d"
KEYS = {V1: os.urandom(32), V2: os.urandom(32)}
S1, S2 = stream_id(os.urandom(32), "a"), stream_id(os.urandom(32), "b")
E1, E2 = new_entry_id(), new_entry_id()
CIPHERS = ["aes-256-gcm", "chacha20-poly1305", "aes-256-gcm-siv"]


def opener(tenant: str = T) -> EnvelopeOpener:
    return EnvelopeOpener(tenant, KEYS)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_round_trip_each_cipher(cipher: str) -> None:
    sealer = EnvelopeSealer(T, V1, KEYS[V1], cipher=cipher)
    env = sealer.seal(S1, E1, b"payload")
    assert parse_envelope(env).cipher == cipher
    assert opener().open(env, stream_id=S1, entry_id=E1, version_id=V1) == b"payload"


def test_ids_have_api_shapes() -> None:
    assert len(S1) == 43 and len(E1) == 22 and E1 != E2


def test_counter_nonces_unique_and_batch_rotation() -> None:
    sealer = EnvelopeSealer(T, V1, KEYS[V1], max_entries=3)
    headers = [parse_envelope(sealer.seal(S1, E1, b"x")) for _ in range(7)]
    pairs = {(h.salt, h.nonce) for h in headers}
    assert len(pairs) == 7
    assert len({h.salt for h in headers}) == 3  # 3 + 3 + 1
    assert headers[0].nonce == bytes(12) and headers[1].nonce == (1).to_bytes(12, "big")


def test_every_byte_flipped_is_rejected() -> None:
    env = EnvelopeSealer(T, V1, KEYS[V1]).seal(S1, E1, b"tamper me please")
    o = opener()
    for i in range(len(env)):
        for bit in (0x01, 0x80):
            bad = bytearray(env)
            bad[i] ^= bit
            with pytest.raises(CryptoError):
                o.open(bytes(bad), stream_id=S1, entry_id=E1, version_id=V1)
    body_start = len(parse_envelope(env).header)
    for i in range(body_start, len(env)):
        bad = bytearray(env)
        bad[i] ^= 1
        with pytest.raises(DecryptionError):
            o.open(bytes(bad), stream_id=S1, entry_id=E1)


def test_truncation_and_garbage_are_format_errors() -> None:
    env = EnvelopeSealer(T, V1, KEYS[V1]).seal(S1, E1, b"")
    for cut in (0, 1, 2, 10, len(env) - 17):
        with pytest.raises(FormatError):
            opener().open(env[:cut], stream_id=S1, entry_id=E1)
    with pytest.raises(FormatError):
        opener().open(b"\x02" + env[1:], stream_id=S1, entry_id=E1)


def test_swapped_bindings_rejected() -> None:
    env = EnvelopeSealer(T, V1, KEYS[V1]).seal(S1, E1, b"bound")
    with pytest.raises(DecryptionError):
        opener().open(env, stream_id=S2, entry_id=E1)
    with pytest.raises(DecryptionError):
        opener().open(env, stream_id=S1, entry_id=E2)
    with pytest.raises(DecryptionError):
        opener().open(env, stream_id=S1, entry_id=E1, version_id=V2)
    with pytest.raises(DecryptionError):
        opener("globex").open(env, stream_id=S1, entry_id=E1)
    # same data key registered under another version id: still rejected
    with pytest.raises(DecryptionError):
        EnvelopeOpener(T, {V2: KEYS[V1]}).open(
            env.replace(V1.encode(), V2.encode()), stream_id=S1, entry_id=E1
        )


def test_unknown_version_is_no_access() -> None:
    env = EnvelopeSealer(T, V1, KEYS[V1]).seal(S1, E1, b"x")
    with pytest.raises(NoAccessToVersionError):
        EnvelopeOpener(T, {V2: KEYS[V2]}).open(env, stream_id=S1, entry_id=E1)


@pytest.mark.parametrize("cipher", CIPHERS)
def test_fast_path_equals_plugin(cipher: str) -> None:
    """The cached pyca objects give exactly the plugin's bytes, both directions."""
    from neurallog.plugins import get_cipher

    plugin = get_cipher(cipher)
    key, nonce, aad, pt = os.urandom(32), os.urandom(12), b"aad", b"plaintext"
    seal, open_ = keyed(cipher, key)
    ct = seal(nonce, pt, aad)
    assert ct == plugin.encrypt(key, nonce, pt, aad)
    assert plugin.decrypt(key, nonce, ct, aad) == pt == open_(nonce, ct, aad)


def test_working_keys_drive_envelopes() -> None:
    wk = WorkingKeys(T, V1, os.urandom(32))
    env = EnvelopeSealer(T, V1, wk.data_key).seal(wk.stream_id("app"), E1, b"x")
    o = EnvelopeOpener(T, {V1: wk.data_key})
    assert o.open(env, stream_id=wk.stream_id("app"), entry_id=E1) == b"x"
    assert "data_key" not in repr(wk) and wk.data_key.hex() not in repr(o)


@settings(max_examples=60, deadline=None)
@given(
    pt=st.binary(max_size=2048),
    cipher=st.sampled_from(CIPHERS),
    stream=st.text(min_size=1, max_size=50),
    entry=st.text(min_size=1, max_size=30),
)
def test_property_round_trip(pt: bytes, cipher: str, stream: str, entry: str) -> None:
    env = EnvelopeSealer(T, V2, KEYS[V2], cipher=cipher).seal(stream, entry, pt)
    assert opener().open(env, stream_id=stream, entry_id=entry) == pt


def test_batch_apis_match_single_calls() -> None:
    sealer = EnvelopeSealer(T, V1, KEYS[V1])
    items = [(new_entry_id(), os.urandom(n)) for n in (0, 1, 300, 5000)]
    envs = sealer.seal_many(S1, items)
    o = opener()
    assert o.open_many(S1, list(zip([i for i, _ in items], envs, strict=True))) == [
        pt for _, pt in items
    ]
    assert [
        o.open(env, stream_id=S1, entry_id=i) for (i, _), env in zip(items, envs, strict=True)
    ] == [pt for _, pt in items]
    swapped = [(items[1][0], envs[0])]
    with pytest.raises(DecryptionError):
        o.open_many(S1, swapped)
    with pytest.raises(DecryptionError):
        o.open_many(S1, [(items[0][0], envs[0])], version_id=V2)
    with pytest.raises(DecryptionError):
        o.open_many(S2, [(items[0][0], envs[0])])


def test_opener_cache_does_not_skip_checks() -> None:
    """After a batch is cached, a tampered header or a truncated body is still caught."""
    sealer = EnvelopeSealer(T, V1, KEYS[V1])
    env = sealer.seal(S1, E1, b"first")
    o = opener()
    assert o.open(env, stream_id=S1, entry_id=E1) == b"first"
    for i in range(len(env)):
        bad = bytearray(env)
        bad[i] ^= 0x04
        with pytest.raises(CryptoError):
            o.open(bytes(bad), stream_id=S1, entry_id=E1, version_id=V1)
    with pytest.raises(FormatError):
        o.open(env[: len(parse_envelope(env).header) + 3], stream_id=S1, entry_id=E1)
    assert o.open(env, stream_id=S1, entry_id=E1) == b"first"


@pytest.mark.parametrize("size", [0, 100, 70_000])
def test_seal_buffer_opens_like_seal(size: int) -> None:
    sealer = EnvelopeSealer(T, V1, KEYS[V1])
    pt = os.urandom(size)
    buf = sealer.seal_buffer(S1, E1, pt)
    assert isinstance(buf, bytearray)
    assert opener().open(bytes(buf), stream_id=S1, entry_id=E1, version_id=V1) == pt
    # same subkey and nonce (both first of their batch): byte-identical to seal()
    again = EnvelopeSealer(T, V1, KEYS[V1])
    again.salt, again._state = sealer.salt, (itertools.count(), *sealer._state[1:])
    assert again.seal(S1, E1, pt) == bytes(buf)


def test_threads_racing_past_rotation_never_reuse_a_nonce() -> None:
    sealer = EnvelopeSealer(T, V1, KEYS[V1], max_entries=5)
    seen: list[tuple[bytes, bytes]] = []
    lock = threading.Lock()

    def work() -> None:
        local = [parse_envelope(sealer.seal(S1, E1, b"x")) for _ in range(300)]
        with lock:
            seen.extend((h.salt, h.nonce) for h in local)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 1800 == len(set(seen))
    assert all(int.from_bytes(nonce, "big") < 5 for _, nonce in seen)


def test_entry_ids_of_a_batch_are_like_single_ids() -> None:
    """One read of randomness per batch gives 22-character base64url ids, all distinct."""
    ids = new_entry_ids(2000)
    assert len(ids) == len(set(ids)) == 2000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", i) for i in ids)
    assert all(len(base64.urlsafe_b64decode(i + "==")) == 16 for i in ids[:50])
    assert {len(i) for i in (new_entry_id(), *new_entry_ids(1))} == {22}
    assert new_entry_ids(0) == []
