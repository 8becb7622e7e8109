"""User key pairs for KEK blobs: X25519 or the hybrid ML-KEM-768 + X25519, per tenant.

Serialised forms start with a KEM id byte so a key can never be read as the other kind:

    public  = kem id | X25519 public (32)                      (x25519, 33 bytes)
            | kem id | ML-KEM-768 public (1184) | X25519 public (32)  (hybrid, 1217 bytes)
    private = kem id | X25519 private (32)
            | kem id | ML-KEM-768 seed (64) | X25519 private (32)

The fingerprint is SHA-256 over a label and the serialised public key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from neurallog.crypto import labels as L
from neurallog.errors import FormatError

KEM_X25519: Final = "x25519"
KEM_HYBRID: Final = "mlkem768-x25519"
KEMS: Final = (KEM_X25519, KEM_HYBRID)
KEM_IDS: Final = {KEM_X25519: 1, KEM_HYBRID: 2}
_KEM_BY_ID: Final = {v: k for k, v in KEM_IDS.items()}
_MLKEM_PUBLIC = 1184
_MLKEM_SEED = 64

PublicKey = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey
PrivateKey = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey


def _kem_of(data: bytes, what: str) -> str:
    if not data or data[0] not in _KEM_BY_ID:
        raise FormatError(f"{what}: unknown KEM id")
    return _KEM_BY_ID[data[0]]


def check_kem(kem: str) -> str:
    """Return ``kem`` if supported, else ``ValueError`` listing the choices."""
    if kem not in KEMS:
        raise ValueError(f"unknown KEM {kem!r}; choose one of {KEMS}")
    return kem


@dataclass(frozen=True, slots=True)
class UserPublicKey:
    """A user's serialised public key and what HPKE needs to seal to it."""

    kem: str
    raw: bytes

    @classmethod
    def from_bytes(cls, data: bytes) -> UserPublicKey:
        """Parse a serialised public key; ``FormatError`` if malformed."""
        data = bytes(data)
        kem = _kem_of(data, "public key")
        expected = 33 if kem == KEM_X25519 else 1 + _MLKEM_PUBLIC + 32
        if len(data) != expected:
            raise FormatError(f"public key: {kem} keys are {expected} bytes")
        # any 32 bytes load as an X25519 key (one of small order is refused when sealed
        # to): only a hybrid key's ML-KEM part has more to check
        if kem != KEM_X25519:
            try:
                _loaded(kem, data)
            except ValueError:
                raise FormatError("public key: not a valid key") from None
        return cls(kem, data)

    @staticmethod
    def _load(kem: str, data: bytes) -> PublicKey:
        if kem == KEM_X25519:
            return x25519.X25519PublicKey.from_public_bytes(data[1:])
        return hpke.MLKEM768X25519PublicKey(
            mlkem.MLKEM768PublicKey.from_public_bytes(data[1 : 1 + _MLKEM_PUBLIC]),
            x25519.X25519PublicKey.from_public_bytes(data[1 + _MLKEM_PUBLIC :]),
        )

    def key(self) -> PublicKey:
        """The pyca key object for HPKE (loaded once per key, bounded LRU: a rotation
        parses each reader's key and then seals to it)."""
        return _loaded(self.kem, self.raw)

    @property
    def fingerprint(self) -> bytes:
        """SHA-256(label user-key-fingerprint || serialised public key): 32 bytes."""
        return hashlib.sha256(_FINGERPRINT_LABEL + self.raw).digest()


_FINGERPRINT_LABEL: Final = L.label(L.USER_KEY_FINGERPRINT)
LOADED_KEYS_CACHE = 4096
"""Public key objects kept (a rotation's readers are parsed a chunk ahead of sealing)."""


@lru_cache(maxsize=LOADED_KEYS_CACHE)
def _loaded(kem: str, raw: bytes) -> PublicKey:
    return UserPublicKey._load(kem, raw)


class UserKeyPair:
    """A user's private key (never leaves the client except inside key slots)."""

    __slots__ = ("_raw", "kem", "public")

    def __init__(self, kem: str, raw: bytes, public: UserPublicKey) -> None:
        self.kem = kem
        self._raw = raw
        self.public = public

    @classmethod
    def generate(cls, kem: str = KEM_X25519) -> UserKeyPair:
        """A fresh key pair for ``kem``."""
        check_kem(kem)
        x = x25519.X25519PrivateKey.generate().private_bytes_raw()
        if kem == KEM_X25519:
            return cls.from_bytes(bytes([KEM_IDS[kem]]) + x)
        seed = mlkem.MLKEM768PrivateKey.generate().private_bytes_raw()
        return cls.from_bytes(bytes([KEM_IDS[kem]]) + seed + x)

    @classmethod
    def from_bytes(cls, data: bytes) -> UserKeyPair:
        """Parse a serialised private key; ``FormatError`` if malformed."""
        data = bytes(data)
        kem = _kem_of(data, "private key")
        if kem == KEM_X25519:
            if len(data) != 33:
                raise FormatError("private key: x25519 keys are 33 bytes")
            pub = x25519.X25519PrivateKey.from_private_bytes(data[1:]).public_key()
            public_raw = bytes([KEM_IDS[kem]]) + pub.public_bytes_raw()
        else:
            if len(data) != 1 + _MLKEM_SEED + 32:
                raise FormatError("private key: hybrid keys are 97 bytes")
            try:
                mk = mlkem.MLKEM768PrivateKey.from_seed_bytes(data[1 : 1 + _MLKEM_SEED])
            except ValueError:
                raise FormatError("private key: not a valid key") from None
            xk = x25519.X25519PrivateKey.from_private_bytes(data[1 + _MLKEM_SEED :])
            public_raw = (
                bytes([KEM_IDS[kem]])
                + mk.public_key().public_bytes_raw()
                + xk.public_key().public_bytes_raw()
            )
        return cls(kem, data, UserPublicKey(kem, public_raw))

    def private_bytes(self) -> bytes:
        """Serialised private key (seal it in a key slot; never store it in clear)."""
        return self._raw

    def key(self) -> PrivateKey:
        """The pyca key object for HPKE."""
        data = self._raw
        if self.kem == KEM_X25519:
            return x25519.X25519PrivateKey.from_private_bytes(data[1:])
        return hpke.MLKEM768X25519PrivateKey(
            mlkem.MLKEM768PrivateKey.from_seed_bytes(data[1 : 1 + _MLKEM_SEED]),
            x25519.X25519PrivateKey.from_private_bytes(data[1 + _MLKEM_SEED :]),
        )

    def __repr__(self) -> str:
        return f"UserKeyPair(kem={self.kem!r}, private=<hidden>)"

    __str__ = __repr__
