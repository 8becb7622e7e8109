"""Built-in KDFs: argon2id, pbkdf2-sha256, scrypt, bip39 and neurallog-legacy.

Parameter names follow the RFCs (argon2: t, m, p; scrypt: n, r, p; PBKDF2: iterations).
The names of the algorithms and of their parameters are written into tenant profiles and
must never change. ``below_floor`` is each KDF's policy for *new* tenants (docs/decisions.md):
the accepted ranges stay wide so existing profiles and RFC test vectors keep working.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from argon2.low_level import ARGON2_VERSION, Type, hash_secret_raw

from neurallog.hookspecs import RegisterKdf, hookimpl

from ._params import below, bounded_int, complete

BIP39_SEED_LENGTH = 64
BIP39_ITERATIONS = 2048
LEGACY_ITERATIONS = 100_000

ARGON2_FLOOR_M = 65536  # KiB: 64 MiB, RFC 9106 second recommended option
ARGON2_FLOOR_TM = 3 * ARGON2_FLOOR_M  # passes x memory of that option (t=3 at 64 MiB)
PBKDF2_FLOOR_ITERATIONS = 600_000  # OWASP Password Storage Cheat Sheet, 2023
SCRYPT_FLOOR_N = 2**17
SCRYPT_FLOOR_R = 8


class Argon2idKdf:
    """Argon2id v1.3 (RFC 9106), defaults = RFC 9106 second recommendation (64 MiB)."""

    name = "argon2id"

    def __init__(self) -> None:
        self.default_params: dict[str, Any] = {"t": 3, "m": 65536, "p": 4}

    def validate_params(self, params: Mapping[str, Any], length: int) -> dict[str, Any]:
        full = complete(self.name, params, self.default_params)
        t = bounded_int(self.name, full, "t", 1, 64)
        p = bounded_int(self.name, full, "p", 1, 64)
        m = bounded_int(self.name, full, "m", 8, 4 * 1024 * 1024)  # KiB, at most 4 GiB
        if m < 8 * p:
            raise ValueError(f"{self.name}: parameter m must be at least 8*p = {8 * p} KiB")
        if length < 4:
            raise ValueError(f"{self.name}: output length must be at least 4 bytes")
        return {"t": t, "m": m, "p": p}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        full = self.validate_params(params, length)
        if len(salt) < 8:
            raise ValueError(f"{self.name}: salt must be at least 8 bytes")
        return hash_secret_raw(
            secret,
            salt,
            time_cost=full["t"],
            memory_cost=full["m"],
            parallelism=full["p"],
            hash_len=length,
            type=Type.ID,
            version=ARGON2_VERSION,
        )

    def below_floor(self, params: Mapping[str, Any]) -> list[str]:
        """At least 64 MiB and t*m of RFC 9106's second option (t=3, 64 MiB).

        The product, not t alone, so the first option (t=1, 2 GiB) passes as well.
        """
        why = "RFC 9106 second recommended option: t=3, m=64 MiB"
        found = below(self.name, params, "m", ARGON2_FLOOR_M, why)
        product = params["t"] * params["m"]
        if product < ARGON2_FLOOR_TM:
            found.append(
                f"{self.name}: t*m={product} is below the floor t*m>={ARGON2_FLOOR_TM} ({why})"
            )
        return found


class Pbkdf2Sha256Kdf:
    """PBKDF2-HMAC-SHA256 (RFC 8018); default 600,000 iterations (OWASP 2023)."""

    name = "pbkdf2-sha256"

    def __init__(self) -> None:
        self.default_params: dict[str, Any] = {"iterations": 600_000}

    def validate_params(self, params: Mapping[str, Any], length: int) -> dict[str, Any]:
        full = complete(self.name, params, self.default_params)
        return {"iterations": bounded_int(self.name, full, "iterations", 1, 10_000_000)}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        full = self.validate_params(params, length)
        return hashlib.pbkdf2_hmac("sha256", secret, salt, full["iterations"], length)

    def below_floor(self, params: Mapping[str, Any]) -> list[str]:
        why = "OWASP 2023 for PBKDF2-HMAC-SHA256"
        return below(self.name, params, "iterations", PBKDF2_FLOOR_ITERATIONS, why)


class ScryptKdf:
    """scrypt (RFC 7914); defaults n=2**17, r=8, p=1 (128 MiB)."""

    name = "scrypt"
    max_memory = 1 << 30  # 128 * n * r bytes: at most 1 GiB

    def __init__(self) -> None:
        self.default_params: dict[str, Any] = {"n": 2**17, "r": 8, "p": 1}

    def validate_params(self, params: Mapping[str, Any], length: int) -> dict[str, Any]:
        full = complete(self.name, params, self.default_params)
        n = bounded_int(self.name, full, "n", 2, 2**20)
        r = bounded_int(self.name, full, "r", 1, 32)
        p = bounded_int(self.name, full, "p", 1, 16)
        if n & (n - 1):
            raise ValueError(f"{self.name}: parameter n must be a power of 2, got {n}")
        if 128 * n * r > self.max_memory:
            raise ValueError(f"{self.name}: 128*n*r must be at most {self.max_memory} bytes")
        return {"n": n, "r": r, "p": p}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        full = self.validate_params(params, length)
        n, r, p = full["n"], full["r"], full["p"]
        maxmem = 128 * r * (n + p + 2) + (1 << 20)
        return hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=length)

    def below_floor(self, params: Mapping[str, Any]) -> list[str]:
        why = "n=2^17, r=8: 128 MiB per guess"
        return below(self.name, params, "n", SCRYPT_FLOOR_N, why) + below(
            self.name, params, "r", SCRYPT_FLOOR_R, why
        )


class Bip39SeedKdf:
    """The BIP-39 seed: PBKDF2-HMAC-SHA512, 2048 iterations, 64 bytes, no parameters.

    ``secret`` is the NFKD-normalised mnemonic (UTF-8) and ``salt`` is
    ``b"mnemonic" + NFKD(passphrase)``; the caller normalises, as BIP-39 specifies.
    """

    name = "bip39"

    def __init__(self) -> None:
        self.default_params: dict[str, Any] = {}

    def validate_params(self, params: Mapping[str, Any], length: int) -> dict[str, Any]:
        full = complete(self.name, params, self.default_params)
        if length != BIP39_SEED_LENGTH:
            raise ValueError(f"{self.name}: the seed is {BIP39_SEED_LENGTH} bytes, not {length}")
        return full

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        self.validate_params(params, length)
        return hashlib.pbkdf2_hmac("sha512", secret, salt, BIP39_ITERATIONS, BIP39_SEED_LENGTH)

    def below_floor(self, params: Mapping[str, Any]) -> list[str]:
        """None: the strength is the mnemonic's 128..256 bits, not the seed's iterations."""
        return []


class NeuralLogLegacyKdf:
    """The original TypeScript SDK's Master Secret: PBKDF2-HMAC-SHA256, 100,000 iterations.

    The caller passes the salt ``NeuralLog-{tenantId}-MasterSecret`` (UTF-8). Fixed
    parameters: anything else would not reproduce the old keys.
    """

    name = "neurallog-legacy"
    #: Reads old data and existing tenants; a new tenant may not choose it.
    legacy_only = True

    def __init__(self) -> None:
        self.default_params: dict[str, Any] = {}

    def validate_params(self, params: Mapping[str, Any], length: int) -> dict[str, Any]:
        return complete(self.name, params, self.default_params)

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        self.validate_params(params, length)
        return hashlib.pbkdf2_hmac("sha256", secret, salt, LEGACY_ITERATIONS, length)

    def below_floor(self, params: Mapping[str, Any]) -> list[str]:
        return [
            f"{self.name}: PBKDF2-HMAC-SHA256 at {LEGACY_ITERATIONS} iterations, below the "
            f"pbkdf2-sha256 floor of {PBKDF2_FLOOR_ITERATIONS}; it is for reading old data only"
        ]


@hookimpl
def neurallog_register_kdfs(register: RegisterKdf) -> None:
    for kdf in (
        Argon2idKdf(),
        Pbkdf2Sha256Kdf(),
        ScryptKdf(),
        Bip39SeedKdf(),
        NeuralLogLegacyKdf(),
    ):
        register(kdf)
