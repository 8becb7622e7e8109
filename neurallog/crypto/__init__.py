"""Client-side crypto core: pure recipes, no I/O (the server never imports this package).

Hierarchy (:mod:`.hierarchy`), working keys and ids (:mod:`.working`), entry envelopes
(:mod:`.envelope`), KEK blobs (:mod:`.blobs`), user keys (:mod:`.userkeys`), key slots
(:mod:`.keyslots`), API keys (:mod:`.apikeys`), BIP-39 (:mod:`.mnemonic`), the tenant
profile (:mod:`.profile`) and the original SDK's entries (:mod:`.legacy`).
"""

from __future__ import annotations

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
