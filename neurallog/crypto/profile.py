"""The tenant's public profile (docs/api.md ``Profile``) and back again.

The profile records everything a client needs to re-derive the hierarchy from the
phrase or mnemonic (KDF id and parameters, secret kind) plus the key-check value, so a
wrong phrase fails loudly, and the signing public key members pin. The server serves the
key-check value to admins only (``null`` for other roles); the signing public key then
tells a wrong phrase apart instead.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from neurallog.crypto._util import b64, from_b64
from neurallog.crypto.hierarchy import MNEMONIC_KDF, KeyHierarchy
from neurallog.crypto.userkeys import check_kem
from neurallog.errors import FormatError, WrongRecoveryPhraseError

SECRET_KINDS = ("phrase", "mnemonic")


def build_profile(
    hierarchy: KeyHierarchy, *, cipher: str = "aes-256-gcm", kem: str = "x25519"
) -> dict[str, Any]:
    """The ``Profile`` dict for ``POST /api/tenants/bootstrap``."""
    check_kem(kem)
    return {
        "kdf": hierarchy.kdf,
        "kdf_params": dict(hierarchy.kdf_params),
        "cipher": cipher,
        "kem": kem,
        "secret_kind": hierarchy.secret_kind,
        "key_check": b64(hierarchy.key_check),
        "signing_public_key": b64(hierarchy.signing_public_key),
    }


def _field(profile: Mapping[str, Any], name: str, kind: type) -> Any:
    value = profile.get(name)
    if not isinstance(value, kind):
        raise FormatError(f"profile field {name!r} is missing or has the wrong type")
    return value


def hierarchy_from_profile(
    tenant_id: str,
    profile: Mapping[str, Any],
    secret: str,
    *,
    passphrase: str = "",
) -> KeyHierarchy:
    """Re-derive the hierarchy from ``secret`` (phrase or mnemonic, per the profile).

    Raises ``WrongRecoveryPhraseError`` when the key-check value (where present: it is
    ``null`` for non-admins) or the signing key does not match, ``InvalidMnemonicError``
    for a malformed mnemonic.
    """
    if not isinstance(profile, Mapping):
        raise FormatError("profile must be a JSON object")
    if not isinstance(secret, str):
        raise TypeError("secret must be a str")
    kdf = _field(profile, "kdf", str)
    params = _field(profile, "kdf_params", dict)
    kind = _field(profile, "secret_kind", str)
    raw_check = profile.get("key_check")
    key_check = (
        None if raw_check is None else from_b64(_field(profile, "key_check", str), "key_check")
    )
    signing_public_key = from_b64(_field(profile, "signing_public_key", str), "signing key")
    if kind not in SECRET_KINDS:
        raise FormatError(f"profile secret_kind must be one of {SECRET_KINDS}")
    if kind == "mnemonic":
        if kdf != MNEMONIC_KDF:
            raise FormatError("profile: a mnemonic tenant must use the bip39 KDF")
        hierarchy = KeyHierarchy.from_mnemonic(tenant_id, secret, passphrase=passphrase)
    else:
        try:
            hierarchy = KeyHierarchy.from_recovery_phrase(tenant_id, secret, kdf=kdf, params=params)
        except TypeError as exc:  # a KDF parameter of the wrong type: the profile is bad
            raise FormatError(f"profile kdf_params: {exc}") from None
    if key_check is not None:
        hierarchy.check(key_check)
    if not hmac.compare_digest(hierarchy.signing_public_key, signing_public_key):
        raise WrongRecoveryPhraseError("recovery phrase does not match this tenant")
    return hierarchy
