"""HPKE sealing (RFC 9180, base mode) for DHKEM(X25519, HKDF-SHA256): the rotation's floor.

A rotation seals one key to every reader, so the cost of one seal is the cost of the
rotation. ``cryptography``'s HPKE spends about 140 us per seal on two cores of the
reference machine, most of it in OpenSSL's per-key object setup; libsodium's two X25519
scalar multiplications (through PyNaCl) take about 60 us, and the key schedule below
(six HMAC-SHA256 calls: two under the constant zero salt, whose key setup is done once,
the others as two SHA-256 calls each, the pads of the key used twice worked out once)
about 10 us. The output is the same RFC 9180 ``enc || ct``, so any HPKE implementation
opens it (``cryptography`` opens every blob in this project).

A rotation seals a batch (:meth:`Sealer.many`): libsodium runs its scalar multiplications
without the GIL, so helper threads do them for part of the batch while the caller's
thread runs the Python of every seal. Each helper does only C work between two short
holds of the GIL; two threads each sealing half a batch were no faster than one, since
each of them waited for the GIL the other held for its key schedule.

Checked by RFC 9180's known-answer vectors (Appendix A.1 and A.2, with the vector's
ephemeral key), by RFC 4231's vectors for the HMAC here, and by opening this module's
output with ``cryptography`` (``tests/crypto/test_hpke_x25519.py``). Only sealing lives
here; opening stays with ``cryptography``.
"""

from __future__ import annotations

import contextlib
import hmac
import os
import threading
from collections import deque
from collections.abc import Callable, Sequence
from functools import cache
from hashlib import sha256
from typing import cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
from nacl.bindings import crypto_scalarmult, crypto_scalarmult_base

KEM_ID = 0x0020  # DHKEM(X25519, HKDF-SHA256)
KDF_ID = 0x0001  # HKDF-SHA256
#: HPKE AEAD ids (RFC 9180 section 7.3) and key sizes
AEADS = {
    "aes-128-gcm": (0x0001, 16),
    "aes-256-gcm": (0x0002, 32),
    "chacha20-poly1305": (0x0003, 32),
}
KEY_SIZE = 32
NONCE_SIZE = 12
_VERSION = b"HPKE-v1"
_KEM_SUITE = b"KEM" + KEM_ID.to_bytes(2, "big")
_ZERO_SALT = bytes(32)


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or _ZERO_SALT, _VERSION + suite + label + ikm, "sha256")


# RFC 2104's padded-key blocks: a key of at most 64 bytes, zero-filled, XOR 0x36 / 0x5c
_INNER_PAD = bytes(b ^ 0x36 for b in range(256))
_OUTER_PAD = bytes(b ^ 0x5C for b in range(256))


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded blocks of an HMAC-SHA256 key of at most 64 bytes (a
    longer key would be hashed first; no key of the schedule is)."""
    if len(key) > 64:
        raise ValueError("HMAC key longer than the SHA-256 block")
    block = key.ljust(64, b"\x00")
    return block.translate(_INNER_PAD), block.translate(_OUTER_PAD)


def _hmac_padded(inner: bytes, outer: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 of ``message`` under the key whose padded blocks are ``inner`` and
    ``outer`` (:func:`_hmac_pads`): a key used twice needs its pads once."""
    return sha256(outer + sha256(inner + message).digest()).digest()


def _hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 (RFC 2104) of a key of at most 64 bytes, from two SHA-256 calls: a third
    faster than ``hmac.digest`` here, whose OpenSSL call sets up a MAC context each time.
    Every key of the schedule is a 32-byte hash."""
    return _hmac_padded(*_hmac_pads(key), message)


def _zero_salt_extract() -> Callable[[bytes], bytes]:
    """HMAC-SHA256 keyed with the absent salt (``HashLen`` zero bytes, RFC 5869 2.2), from
    the two padded-key states hashed once: ``extract(labeled_ikm)``. Two of a seal's six
    HMACs are keyed so; this saves their key setup."""
    # the key is all zeros, so its padded blocks are the pads themselves (RFC 2104)
    inner = sha256(b"\x36" * 64)
    outer = sha256(b"\x5c" * 64)

    def extract(message: bytes) -> bytes:
        step = inner.copy()
        step.update(message)
        done = outer.copy()
        done.update(step.digest())
        return done.digest()

    return extract


@cache
def _suite(aead: str) -> tuple[bytes, int, bytes]:
    """The suite id, key size and the ``psk_id_hash`` (constant in base mode) of ``aead``."""
    if aead not in AEADS:
        raise ValueError(f"unknown HPKE AEAD {aead!r}; choose one of {tuple(AEADS)}")
    aead_id, key_size = AEADS[aead]
    suite = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big")
    suite += aead_id.to_bytes(2, "big")
    return suite, key_size, _labeled_extract(suite, b"", b"psk_id_hash", b"")


MAX_HELPERS = 3
"""Helper threads of one batch at most: past three, the one thread that finishes every
seal (the key schedule and the AEAD, under the GIL) is the limit."""

MIN_SHARED = 64
"""Recipients from which a batch seal starts helper threads (a thread's start is about the
cost of one seal)."""


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def sharing_threads() -> int:
    """How many threads a batch seal shares its X25519 work with: one per further core this
    process may use, at most :data:`MAX_HELPERS` (none on one core, where they would only
    take turns)."""
    return max(0, min(MAX_HELPERS, usable_cores() - 1))


def _exchange(recipient: bytes, secret_e: bytes | None = None) -> tuple[bytes, bytes]:
    """``(enc, dh)``: a fresh ephemeral key pair's public half and its X25519 shared secret
    with ``recipient``. Both scalar multiplications run in libsodium without the GIL, so
    another thread may do them while this one runs Python."""
    secret = os.urandom(KEY_SIZE) if secret_e is None else secret_e
    enc = crypto_scalarmult_base(secret)
    try:
        return enc, crypto_scalarmult(secret, recipient)
    except RuntimeError:  # libsodium refuses an all-zero result
        raise ValueError("X25519 public key of small order") from None


class Sealer:
    """RFC 9180 single-shot ``SealBase`` for one AEAD, what does not depend on the
    recipient (the suite, every label and length prefix, the zero-salt HMAC states) worked
    out once: ``sealer(recipient, plaintext, info=...)`` for one, :meth:`many` for a
    rotation's worth (see :func:`seal`)."""

    def __init__(self, aead: str) -> None:
        suite, key_size, psk_id_hash = _suite(aead)
        zero_salt = _zero_salt_extract()
        # RFC 9180 LabeledExtract / LabeledExpand inputs, less what varies per seal
        eae_prk_label = _VERSION + _KEM_SUITE + b"eae_prk"
        shared_label = KEY_SIZE.to_bytes(2, "big") + _VERSION + _KEM_SUITE + b"shared_secret"
        info_hash_label = _VERSION + suite + b"info_hash"
        secret_label = _VERSION + suite + b"secret"
        key_label = key_size.to_bytes(2, "big") + _VERSION + suite + b"key"
        nonce_label = NONCE_SIZE.to_bytes(2, "big") + _VERSION + suite + b"base_nonce"
        mode_base = b"\x00" + psk_id_hash
        cipher = ChaCha20Poly1305 if aead == "chacha20-poly1305" else AESGCM
        hmac_, pads, padded = _hmac, _hmac_pads, _hmac_padded

        def finish(
            recipient: bytes, enc: bytes, dh: bytes, plaintext: bytes, info: bytes, aad: bytes
        ) -> bytes:
            # every expand here is one HKDF block: T(1) = HMAC(prk, info || 0x01)
            eae_prk = zero_salt(eae_prk_label + dh)
            shared = hmac_(eae_prk, shared_label + enc + recipient + b"\x01")
            context = mode_base + zero_salt(info_hash_label + info)
            # key and nonce are both expanded under ``secret``: its pads once
            inner, outer = pads(hmac_(shared, secret_label))
            key = padded(inner, outer, key_label + context + b"\x01")
            nonce = padded(inner, outer, nonce_label + context + b"\x01")
            return enc + cipher(key[:key_size]).encrypt(nonce[:NONCE_SIZE], plaintext, aad)

        self._finish = finish

    def __call__(
        self,
        recipient: bytes,
        plaintext: bytes,
        *,
        info: bytes,
        aad: bytes = b"",
        ephemeral: bytes | None = None,
    ) -> bytes:
        if len(recipient) != KEY_SIZE:
            raise ValueError("X25519 public key must be 32 bytes")
        enc, dh = _exchange(recipient, ephemeral)
        return self._finish(recipient, enc, dh, plaintext, info, aad)

    def many(
        self,
        items: Sequence[tuple[bytes, bytes]],
        plaintext: bytes,
        *,
        aad: bytes = b"",
        helpers: int | None = None,
    ) -> list[bytes]:
        """``enc || ct`` of ``plaintext`` sealed to each ``(recipient, info)`` of ``items``,
        in order, each with a fresh ephemeral key: the same bytes as one call per item.

        ``helpers`` threads (default :func:`sharing_threads`) take recipients from the far
        end of the batch and do only their two scalar multiplications, which release the
        GIL; this thread seals from the near end and then finishes theirs (key schedule and
        AEAD). On two cores a batch of a thousand seals in about two thirds of the time.
        Every key is checked before any thread starts; a small-order key raises
        ``ValueError`` as one seal would, whichever thread meets it."""
        for recipient, _ in items:
            if len(recipient) != KEY_SIZE:
                raise ValueError("X25519 public key must be 32 bytes")
        count = sharing_threads() if helpers is None else helpers
        if count <= 0 or len(items) < MIN_SHARED:
            return [self(r, plaintext, info=i, aad=aad) for r, i in items]
        finish = self._finish
        waiting = deque(range(len(items)))  # appends and pops are thread-safe (documented)
        out: list[bytes | None] = [None] * len(items)
        exchanged: list[tuple[bytes, bytes] | None] = [None] * len(items)

        def helper() -> None:
            take = waiting.pop
            with contextlib.suppress(IndexError):
                while True:
                    index = take()
                    try:
                        exchanged[index] = _exchange(items[index][0])
                    except ValueError:
                        return  # left undone: the caller's thread meets it and raises

        threads = [threading.Thread(target=helper, daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        try:
            take = waiting.popleft
            with contextlib.suppress(IndexError):
                while True:
                    index = take()
                    recipient, info = items[index]
                    enc, dh = _exchange(recipient)
                    out[index] = finish(recipient, enc, dh, plaintext, info, aad)
        finally:
            waiting.clear()  # on an error, the helpers stop after their current item
            for thread in threads:
                thread.join()
        for index, pair in enumerate(exchanged):
            if out[index] is None:  # a helper's, or one a helper left
                recipient, info = items[index]
                enc, dh = _exchange(recipient) if pair is None else pair
                out[index] = finish(recipient, enc, dh, plaintext, info, aad)
        return cast(list[bytes], out)


@cache
def sealer(aead: str = "aes-256-gcm") -> Sealer:
    """The :class:`Sealer` of ``aead`` (one per AEAD, made on first use)."""
    return Sealer(aead)


def seal(
    recipient: bytes,
    plaintext: bytes,
    *,
    info: bytes,
    aead: str = "aes-256-gcm",
    aad: bytes = b"",
    ephemeral: bytes | None = None,
) -> bytes:
    """``enc || ciphertext`` of ``plaintext`` sealed to the raw X25519 public key
    ``recipient`` (single-shot ``SealBase``, sequence number 0).

    ``ephemeral`` (a 32-byte X25519 private key) is for known-answer tests only; a seal
    draws a fresh one from the OS. A recipient key of small order (the shared secret would
    be all zeros) is refused with ``ValueError``.
    """
    return sealer(aead)(recipient, plaintext, info=info, aad=aad, ephemeral=ephemeral)
