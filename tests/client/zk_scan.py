"""Helpers of the zero-knowledge scan: every encoding of a secret, every byte in Redis."""

from __future__ import annotations

import base64
from typing import Any

import redis


def _b64_forms(secret: bytes, encode: Any) -> list[bytes]:
    """Substrings every base64 text containing ``secret`` must contain, at each of the
    three byte alignments (the quanta touching unknown neighbours are cut off)."""
    forms = []
    for offset in range(3):
        text = encode(b"\x00" * offset + secret).rstrip(b"=")
        start = 4 if offset else 0
        core = text[start:-4] if len(text) - start > 8 else b""
        if offset == 0:
            forms.append(encode(secret))  # the exact, padded encoding as well
        if len(core) >= 8:
            forms.append(core)
    return forms


def encodings(secret: bytes) -> list[bytes]:
    """Raw, hex (both cases), base64 and base64url of ``secret``."""
    if len(secret) < 8:
        raise ValueError("secret too short to scan for without false positives")
    forms = [secret, secret.hex().encode(), secret.hex().upper().encode()]
    forms += _b64_forms(secret, base64.b64encode)
    forms += _b64_forms(secret, base64.urlsafe_b64encode)
    return list(dict.fromkeys(forms))


def redis_dump(client: redis.Redis[Any]) -> list[bytes]:
    """Every key name and every value (all types) in the database, as bytes."""
    out: list[bytes] = []
    for key in client.scan_iter(count=1000):
        out.append(key)
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "string":
            out.append(client.get(key) or b"")
        elif kind == "hash":
            for k, v in client.hgetall(key).items():
                out += [k, v]
        elif kind == "set":
            out += list(client.smembers(key))
        elif kind == "zset":
            for member, score in client.zrange(key, 0, -1, withscores=True):
                out += [member, repr(score).encode()]
        elif kind == "list":
            out += list(client.lrange(key, 0, -1))
        elif kind == "stream":
            for seq, fields in client.xrange(key):
                out.append(seq)
                for k, v in fields.items():
                    out += [k, v]
        else:
            raise AssertionError(f"unexpected Redis type {kind} for {key!r}")
    return out
