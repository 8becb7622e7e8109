"""A second, independent implementation of the v1 key hierarchy, for known-answer vectors.

Written from docs/key-hierarchy.md with the standard library only (hashlib, hmac; HKDF by
hand from RFC 5869), so a mistake in ``neurallog.crypto`` cannot hide behind a shared
helper. Argon2id has no stdlib implementation: that single step calls argon2-cffi's
``hash_secret_raw`` directly (not the plugin). ``python tests/crypto/nl_independent.py``
regenerates tests/vectors/hierarchy_v1.json; the tests check both implementations agree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any


def hkdf(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """RFC 5869 section 2, SHA-256."""
    prk = hmac.new(salt or b"\x00" * 32, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def label(purpose: str, *fields: str | bytes) -> bytes:
    out = b"neurallog/v1/" + purpose.encode()
    for f in fields:
        raw = f.encode() if isinstance(f, str) else f
        out += b"\x00" + len(raw).to_bytes(2, "big") + raw
    return out


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def normalize(phrase: str) -> str:
    return " ".join(unicodedata.normalize("NFKD", phrase).split())


def master_secret(case: dict[str, Any]) -> bytes:
    tenant = case["tenant_id"]
    salt = hashlib.sha256(label("kdf-salt", tenant)).digest()
    if case["secret_kind"] == "mnemonic":
        words = " ".join(unicodedata.normalize("NFKD", case["secret"]).lower().split())
        pw = b"mnemonic" + unicodedata.normalize("NFKD", case.get("passphrase", "")).encode()
        seed = hashlib.pbkdf2_hmac("sha512", words.encode(), pw, 2048, 64)
        return hkdf(seed, salt, label("mnemonic-master-secret", tenant), 32)
    secret = normalize(case["secret"]).encode()
    params = case["kdf_params"]
    if case["kdf"] == "pbkdf2-sha256":
        return hashlib.pbkdf2_hmac("sha256", secret, salt, params["iterations"], 32)
    if case["kdf"] == "scrypt":
        n, r, p = params["n"], params["r"], params["p"]
        return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=32)
    if case["kdf"] == "argon2id":
        from argon2.low_level import Type, hash_secret_raw

        return hash_secret_raw(
            secret, salt, params["t"], params["m"], params["p"], 32, Type.ID, 0x13
        )
    raise ValueError(case["kdf"])


#: the origin version of every case's rewrapped stream id
REWRAP_ORIGIN = "00000000-0000-4000-8000-000000000001"


def derive(case: dict[str, Any]) -> dict[str, str]:
    """Every derived value of one case, hex (stream id base64url)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    tenant, version = case["tenant_id"], case["version_id"]
    zero = b""
    mkek = hkdf(master_secret(case), zero, label("master-kek", tenant), 32)
    okek = hkdf(mkek, zero, label("operational-kek", tenant, version), 32)
    check_key = hkdf(mkek, zero, label("key-check-key", tenant), 32)
    seed = hkdf(mkek, zero, label("signing-key", tenant), 32)
    data = hkdf(okek, zero, label("data-key", tenant, version), 32)
    index = hkdf(okek, zero, label("log-index-key", tenant, version), 32)
    search = hkdf(okek, zero, label("search-key", tenant, version), 32)
    name = unicodedata.normalize("NFC", case["log_name"]).encode()
    return {
        "kdf_salt": hashlib.sha256(label("kdf-salt", tenant)).hexdigest(),
        "master_kek": mkek.hex(),
        "operational_kek": okek.hex(),
        "key_check": hmac.new(check_key, label("key-check", tenant), hashlib.sha256).hexdigest(),
        "signing_public_key": Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes_raw()
        .hex(),
        "data_key": data.hex(),
        "log_index_key": index.hex(),
        "search_key": search.hex(),
        "stream_id": b64url(hmac.new(index, name, hashlib.sha256).digest()),
        # the stream of the log's entries rewrapped from an older (origin) version
        "rewrap_stream_id": b64url(
            hmac.new(
                index, b"\xff" + label("rewrap-stream", REWRAP_ORIGIN) + name, hashlib.sha256
            ).digest()
        ),
    }


def legacy_derive(tenant_id: str, phrase: str, version_id: str) -> dict[str, str]:
    """The original TypeScript SDK's chain (docs: DESIGN.md, legacy KDF)."""
    ms = hashlib.pbkdf2_hmac(
        "sha256", phrase.encode(), f"NeuralLog-{tenant_id}-MasterSecret".encode(), 100_000, 32
    )
    mkek = hkdf(ms, b"NeuralLog-MasterKEK", b"master-key-encryption-key", 32)
    okek = hkdf(
        mkek, f"NeuralLog-OpKEK-{version_id}".encode(), b"operational-key-encryption-key", 32
    )
    data = hkdf(okek, b"NeuralLog-LogKey", b"logs", 32)
    return {"master_kek": mkek.hex(), "operational_kek": okek.hex(), "data_key": data.hex()}


CASES: list[dict[str, Any]] = [
    {
        "name": "pbkdf2 phrase",
        "tenant_id": "acme",
        "secret_kind": "phrase",
        "kdf": "pbkdf2-sha256",
        "kdf_params": {"iterations": 1000},
        "secret": "correct horse battery staple",
        "version_id": "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "log_name": "app/requests",
    },
    {
        "name": "pbkdf2 unicode phrase, other tenant",
        "tenant_id": "globex-eu",
        "secret_kind": "phrase",
        "kdf": "pbkdf2-sha256",
        "kdf_params": {"iterations": 2},
        "secret": "Ünïcödé  phrase\twith ﬁ ligature",
        "version_id": "00000000-0000-4000-8000-000000000001",
        "log_name": "café",
    },
    {
        "name": "scrypt phrase",
        "tenant_id": "acme",
        "secret_kind": "phrase",
        "kdf": "scrypt",
        "kdf_params": {"n": 16, "r": 8, "p": 1},
        "secret": "correct horse battery staple",
        "version_id": "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "log_name": "app/requests",
    },
    {
        "name": "argon2id phrase, small params",
        "tenant_id": "acme",
        "secret_kind": "phrase",
        "kdf": "argon2id",
        "kdf_params": {"t": 1, "m": 64, "p": 1},
        "secret": "correct horse battery staple",
        "version_id": "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "log_name": "app/requests",
    },
    {
        "name": "bip39 mnemonic, no passphrase",
        "tenant_id": "acme",
        "secret_kind": "mnemonic",
        "kdf": "bip39",
        "kdf_params": {},
        "secret": "legal winner thank year wave sausage worth useful legal winner thank yellow",
        "passphrase": "",
        "version_id": "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b",
        "log_name": "app/requests",
    },
    {
        "name": "bip39 mnemonic with passphrase",
        "tenant_id": "initech",
        "secret_kind": "mnemonic",
        "kdf": "bip39",
        "kdf_params": {},
        "secret": "abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon "
        "abandon abandon abandon abandon art",
        "passphrase": "TREZOR",
        "version_id": "9b2e7c10-5d3f-4a61-b8c2-7e9f0a1b2c3d",
        "log_name": "billing",
    },
]

LEGACY = {"tenant_id": "acme", "phrase": "legacy phrase", "version_id": "v1"}


def build() -> dict[str, Any]:
    return {
        "source": "computed by tests/crypto/nl_independent.py (stdlib hashlib/hmac, HKDF "
        "written by hand; argon2id via argon2-cffi hash_secret_raw) from "
        "docs/key-hierarchy.md; not by neurallog.crypto",
        "cases": [{**c, "expected": derive(c)} for c in CASES],
        "legacy": {**LEGACY, "expected": legacy_derive(**LEGACY)},
    }


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "vectors" / "hierarchy_v1.json"
    out.write_text(json.dumps(build(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sys.stdout.write(f"wrote {out}\n")
