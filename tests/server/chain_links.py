"""Real signed tenant chain links for server tests, made with ``neurallog.crypto.chain``.

The server checks structure only; these links also verify (signature, linkage), so a
test can replay what the server stored with ``verify_chain``.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from neurallog.crypto.chain import GENESIS_PREV, Link, SignedLink, sign_link

#: the chain profile body of tests.server.helpers.profile_body()
PROFILE_LINK_BODY = {
    "kdf": "argon2id",
    "kdf_params": {"m": 65536, "t": 3, "p": 1},
    "kem": "x25519",
    "cipher": "aes-256-gcm",
}


def fingerprint(public_key_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()


@dataclass
class Signer:
    """One tenant's signing key and the head of the chain it has signed so far."""

    tenant_id: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
    seq: int = 0
    prev: bytes = GENESIS_PREV
    signed: list[SignedLink] = field(default_factory=list)

    def link(self, kind: str, body: dict[str, Any], *, seq: int | None = None) -> str:
        """Sign the next link (or one at ``seq``, not advancing the head) as JSON text."""
        at = self.seq if seq is None else seq
        made = sign_link(Link(self.tenant_id, at, self.prev, 1_700_000_000, kind, body), self.key)
        if seq is None:
            self.seq += 1
            self.prev = made.link.link_hash()
            self.signed.append(made)
        return made.to_json()

    def public_key(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )


def genesis_links(signer: Signer, admin_id: str, admin_public_key: str) -> list[str]:
    """The profile link and the admin's enrolment, as a bootstrap or genesis carries them."""
    return [
        signer.link("profile", PROFILE_LINK_BODY),
        signer.link(
            "member.enrol",
            {"user_id": admin_id, "role": "admin", "fingerprint": fingerprint(admin_public_key)},
        ),
    ]
