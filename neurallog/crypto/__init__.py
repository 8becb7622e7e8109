"""Client-side crypto core: pure recipes, no I/O (the server never imports this package).

Hierarchy (:mod:`.hierarchy`), working keys and ids (:mod:`.working`), entry envelopes
(:mod:`.envelope`), KEK blobs (:mod:`.blobs`), user keys (:mod:`.userkeys`), key slots
(:mod:`.keyslots`), API keys (:mod:`.apikeys`), BIP-39 (:mod:`.mnemonic`), the tenant
profile (:mod:`.profile`) and the original SDK's entries (:mod:`.legacy`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neurallog.crypto.apikeys import ApiKey, BearerCredential, BootstrapToken
    from neurallog.crypto.blobs import (
        kek_commitment,
        open_blob,
        seal_blob,
        seal_committed_blob,
        verify_blob,
    )
    from neurallog.crypto.envelope import EnvelopeOpener, EnvelopeSealer, parse_envelope
    from neurallog.crypto.hierarchy import KeyHierarchy, kdf_salt, signing_fingerprint
    from neurallog.crypto.keyslots import open_slot, seal_slot
    from neurallog.crypto.legacy import open_entry
    from neurallog.crypto.mnemonic import (
        entropy_to_mnemonic,
        generate_mnemonic,
        mnemonic_to_seed,
        validate_mnemonic,
    )
    from neurallog.crypto.phrases import normalize_phrase
    from neurallog.crypto.profile import build_profile, hierarchy_from_profile
    from neurallog.crypto.userkeys import UserKeyPair, UserPublicKey
    from neurallog.crypto.working import WorkingKeys, new_entry_id, stream_id

#: name -> the module that defines it, imported on first use (PEP 562): a process that
#: needs one recipe (a sealing worker imports ``blobs``) does not load them all.
_WHERE = {
    "ApiKey": "neurallog.crypto.apikeys",
    "BearerCredential": "neurallog.crypto.apikeys",
    "BootstrapToken": "neurallog.crypto.apikeys",
    "EnvelopeOpener": "neurallog.crypto.envelope",
    "EnvelopeSealer": "neurallog.crypto.envelope",
    "KeyHierarchy": "neurallog.crypto.hierarchy",
    "UserKeyPair": "neurallog.crypto.userkeys",
    "UserPublicKey": "neurallog.crypto.userkeys",
    "WorkingKeys": "neurallog.crypto.working",
    "build_profile": "neurallog.crypto.profile",
    "entropy_to_mnemonic": "neurallog.crypto.mnemonic",
    "generate_mnemonic": "neurallog.crypto.mnemonic",
    "hierarchy_from_profile": "neurallog.crypto.profile",
    "kdf_salt": "neurallog.crypto.hierarchy",
    "kek_commitment": "neurallog.crypto.blobs",
    "mnemonic_to_seed": "neurallog.crypto.mnemonic",
    "new_entry_id": "neurallog.crypto.working",
    "normalize_phrase": "neurallog.crypto.phrases",
    "open_blob": "neurallog.crypto.blobs",
    "open_entry": "neurallog.crypto.legacy",
    "open_slot": "neurallog.crypto.keyslots",
    "parse_envelope": "neurallog.crypto.envelope",
    "seal_blob": "neurallog.crypto.blobs",
    "seal_committed_blob": "neurallog.crypto.blobs",
    "seal_slot": "neurallog.crypto.keyslots",
    "signing_fingerprint": "neurallog.crypto.hierarchy",
    "stream_id": "neurallog.crypto.working",
    "validate_mnemonic": "neurallog.crypto.mnemonic",
    "verify_blob": "neurallog.crypto.blobs",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'neurallog.crypto' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ApiKey",
    "BearerCredential",
    "BootstrapToken",
    "EnvelopeOpener",
    "EnvelopeSealer",
    "KeyHierarchy",
    "UserKeyPair",
    "UserPublicKey",
    "WorkingKeys",
    "build_profile",
    "entropy_to_mnemonic",
    "generate_mnemonic",
    "hierarchy_from_profile",
    "kdf_salt",
    "kek_commitment",
    "mnemonic_to_seed",
    "new_entry_id",
    "normalize_phrase",
    "open_blob",
    "open_entry",
    "open_slot",
    "parse_envelope",
    "seal_blob",
    "seal_committed_blob",
    "seal_slot",
    "signing_fingerprint",
    "stream_id",
    "validate_mnemonic",
    "verify_blob",
]
