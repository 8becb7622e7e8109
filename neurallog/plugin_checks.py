"""Checked wrappers around KDF and cipher plugins.

The crypto core never calls a plugin object directly: it calls these wrappers, which check
the caller's arguments (``TypeError``/``ValueError`` for misuse), check the plugin's output
(wrong length is :class:`PluginFailedError`), and make every failed decryption the same
opaque :class:`DecryptionError`, whatever the plugin raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from neurallog.errors import CustodyError, DecryptionError, PluginFailedError
from neurallog.hookspecs import CipherPlugin, CustodyPlugin, KdfPlugin

MAX_KDF_LENGTH = 1024
"""Longest output a caller may ask a KDF for (a Master Secret is 32 or 64 bytes)."""

BytesLike = bytes | bytearray | memoryview


@dataclass(frozen=True)
class PluginInfo:
    """What ``list_kdfs()``/``list_ciphers()`` report about one algorithm.

    ``origin`` is ``"builtin"``, ``"<distribution> <version>"`` for an installed plugin, or
    ``"runtime:<plugin name>"`` for an object given to ``register_plugin()``.
    """

    name: str
    kind: Literal["kdf", "cipher", "custody"]
    origin: str
    plugin: str


def require_bytes(what: str, value: object) -> bytes:
    """Return ``value`` as ``bytes``; raise ``TypeError`` if it is not bytes-like."""
    if isinstance(value, BytesLike):
        return bytes(value)
    raise TypeError(f"{what} must be bytes, not {type(value).__name__}")


def _describe(info: PluginInfo) -> str:
    return f"{info.kind} {info.name!r} (plugin {info.plugin!r}, {info.origin})"


class CheckedKdf:
    """A KDF plugin behind argument and output checks; satisfies :class:`KdfPlugin`."""

    def __init__(self, plugin: KdfPlugin, info: PluginInfo) -> None:
        self._plugin = plugin
        self.info = info
        self.name: str = info.name
        self.default_params: dict[str, Any] = dict(plugin.default_params)
        #: True for a KDF kept to read old data: no new tenant may choose it.
        self.legacy_only: bool = getattr(plugin, "legacy_only", False) is True

    @property
    def origin(self) -> str:
        return self.info.origin

    @property
    def has_floor(self) -> bool:
        """Whether the plugin declares ``below_floor`` (a policy for new tenants)."""
        return callable(getattr(self._plugin, "below_floor", None))

    def __repr__(self) -> str:
        return f"<CheckedKdf {_describe(self.info)}>"

    def below_floor(self, params: Mapping[str, Any], length: int = 32) -> list[str]:
        """Why ``params`` are too weak for a new tenant, one sentence each; ``[]`` if not.

        ``params`` are completed and checked first (``ValueError``/``TypeError``) for an
        output of ``length`` bytes (32: a phrase's Master Secret; 64: the BIP-39 seed). A plugin
        without ``below_floor`` declares no floor and gets ``[]``: the project cannot judge
        a KDF it does not know (docs/plugins.md).
        """
        full = self.validate_params(params, length)
        check = getattr(self._plugin, "below_floor", None)
        if check is None:
            return []
        try:
            found = check(full)
        except Exception as exc:
            raise PluginFailedError(
                f"{_describe(self.info)} raised {type(exc).__name__} in below_floor()"
            ) from exc
        if not isinstance(found, list) or not all(isinstance(r, str) for r in found):
            raise PluginFailedError(
                f"{_describe(self.info)}: below_floor() must return a list of str"
            )
        return found

    def validate_params(self, params: Mapping[str, Any], length: int) -> dict[str, Any]:
        """Return the complete parameters (defaults filled in) or raise ValueError/TypeError.

        Call this before writing parameters into a profile: a bad value is refused there,
        not at the first derivation on another machine.
        """
        _check_length(length)
        check = getattr(self._plugin, "validate_params", None)
        if check is None:
            return {**self.default_params, **params}
        try:
            full = check(dict(params), length)
        except (ValueError, TypeError):
            raise
        except Exception as exc:
            raise PluginFailedError(
                f"{_describe(self.info)} raised {type(exc).__name__} in validate_params()"
            ) from exc
        if not isinstance(full, dict):
            raise PluginFailedError(f"{_describe(self.info)}: validate_params() must return a dict")
        return full

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        """Derive exactly ``length`` bytes; missing parameters take the plugin's defaults."""
        secret_b = require_bytes("secret", secret)
        salt_b = require_bytes("salt", salt)
        full = self.validate_params(params, length)
        try:
            out = self._plugin.derive(secret_b, salt_b, length, **full)
        except Exception as exc:
            raise PluginFailedError(
                f"{_describe(self.info)} raised {type(exc).__name__} in derive()"
            ) from None
        if not isinstance(out, bytes) or len(out) != length:
            got = f"{len(out)} bytes" if isinstance(out, bytes) else type(out).__name__
            raise PluginFailedError(
                f"{_describe(self.info)} returned {got} from derive(), expected {length} bytes"
            )
        return out


def _check_length(length: object) -> None:
    if not isinstance(length, int) or isinstance(length, bool):
        raise TypeError(f"length must be int, not {type(length).__name__}")
    if not 1 <= length <= MAX_KDF_LENGTH:
        raise ValueError(f"length must be between 1 and {MAX_KDF_LENGTH} bytes, got {length}")


class CheckedCipher:
    """An AEAD plugin behind argument and output checks; satisfies :class:`CipherPlugin`.

    Misuse the caller controls (non-bytes arguments, a key of the wrong size, a nonce of
    the wrong size when encrypting) raises ``TypeError``/``ValueError``. In ``decrypt``
    everything that comes from the stored envelope (nonce, ciphertext) and everything the
    plugin does ends as ``DecryptionError("decryption failed")``.
    """

    def __init__(self, plugin: CipherPlugin, info: PluginInfo) -> None:
        self._plugin = plugin
        self.info = info
        self.name: str = info.name
        self.key_size: int = plugin.key_size
        self.nonce_size: int = plugin.nonce_size
        self.tag_size: int = plugin.tag_size

    @property
    def origin(self) -> str:
        return self.info.origin

    def __repr__(self) -> str:
        return f"<CheckedCipher {_describe(self.info)}>"

    def _check_key(self, key: object) -> bytes:
        key_b = require_bytes("key", key)
        if len(key_b) != self.key_size:
            raise ValueError(f"{self.name} needs a {self.key_size}-byte key, got {len(key_b)}")
        return key_b

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        """Seal ``plaintext``; returns ``len(plaintext) + tag_size`` bytes."""
        key_b = self._check_key(key)
        nonce_b = require_bytes("nonce", nonce)
        if len(nonce_b) != self.nonce_size:
            raise ValueError(
                f"{self.name} needs a {self.nonce_size}-byte nonce, got {len(nonce_b)}"
            )
        pt = require_bytes("plaintext", plaintext)
        aad_b = require_bytes("aad", aad)
        try:
            out = self._plugin.encrypt(key_b, nonce_b, pt, aad_b)
        except Exception as exc:
            raise PluginFailedError(
                f"{_describe(self.info)} raised {type(exc).__name__} in encrypt()"
            ) from None
        expected = len(pt) + self.tag_size
        if not isinstance(out, bytes) or len(out) != expected:
            got = f"{len(out)} bytes" if isinstance(out, bytes) else type(out).__name__
            raise PluginFailedError(
                f"{_describe(self.info)} returned {got} from encrypt(), expected {expected} bytes"
            )
        return out

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        """Open ``ciphertext``; any failure is ``DecryptionError("decryption failed")``."""
        key_b = self._check_key(key)
        nonce_b = require_bytes("nonce", nonce)
        ct = require_bytes("ciphertext", ciphertext)
        aad_b = require_bytes("aad", aad)
        if len(nonce_b) != self.nonce_size or len(ct) < self.tag_size:
            raise DecryptionError("decryption failed")
        try:
            out = self._plugin.decrypt(key_b, nonce_b, ct, aad_b)
        except Exception:
            raise DecryptionError("decryption failed") from None
        if not isinstance(out, bytes) or len(out) != len(ct) - self.tag_size:
            raise DecryptionError("decryption failed")
        return out


CUSTODY_SECRET_SIZE = 32
"""A custody plugin wraps a Master KEK: exactly 32 bytes."""
MAX_CUSTODY_BLOB = 64 * 1024


class CheckedCustody:
    """A custody plugin behind argument and output checks; satisfies :class:`CustodyPlugin`.

    Whatever the plugin raises becomes :class:`CustodyError` naming the plugin and the
    exception type only (a plugin's message might quote what it was given).
    """

    def __init__(self, plugin: CustodyPlugin, info: PluginInfo) -> None:
        self._plugin = plugin
        self.info = info
        self.name: str = info.name

    @property
    def origin(self) -> str:
        return self.info.origin

    def __repr__(self) -> str:
        return f"<CheckedCustody {_describe(self.info)}>"

    def wrap(self, tenant_id: str, user_id: str, secret: bytes) -> bytes:
        """Wrap a 32-byte secret; the blob must not contain it in the clear."""
        secret_b = require_bytes("secret", secret)
        if len(secret_b) != CUSTODY_SECRET_SIZE:
            raise ValueError(f"custody wraps a {CUSTODY_SECRET_SIZE}-byte secret")
        try:
            out = self._plugin.wrap(tenant_id, user_id, secret_b)
        except Exception as exc:
            raise CustodyError(
                f"{_describe(self.info)} raised {type(exc).__name__} in wrap()"
            ) from None
        if not isinstance(out, bytes) or not 0 < len(out) <= MAX_CUSTODY_BLOB:
            raise PluginFailedError(f"{_describe(self.info)} returned no usable blob from wrap()")
        if secret_b in out:
            raise PluginFailedError(
                f"{_describe(self.info)} returned a blob holding the secret in the clear"
            )
        return out

    def unwrap(self, tenant_id: str, user_id: str, blob: bytes) -> bytes:
        """Unwrap a blob; any failure is ``CustodyError``."""
        blob_b = require_bytes("blob", blob)
        try:
            out = self._plugin.unwrap(tenant_id, user_id, blob_b)
        except Exception as exc:
            raise CustodyError(
                f"{_describe(self.info)} could not unwrap the stored secret "
                f"({type(exc).__name__}): the external key is missing, locked or different"
            ) from None
        if not isinstance(out, bytes) or len(out) != CUSTODY_SECRET_SIZE:
            raise CustodyError(f"{_describe(self.info)} unwrapped a secret of the wrong size")
        return out

    def forget(self, tenant_id: str, user_id: str) -> None:
        """Delete the external key material, when the plugin can (optional hook)."""
        forget = getattr(self._plugin, "forget", None)
        if not callable(forget):
            return
        try:
            forget(tenant_id, user_id)
        except Exception as exc:
            raise CustodyError(
                f"{_describe(self.info)} raised {type(exc).__name__} in forget()"
            ) from None
