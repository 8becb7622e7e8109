"""The unlocked state of a client: who it is, what it may decrypt, and the keys for it.

Everything here lives in memory only. A member holds Operational KEKs opened from its
verified blobs; an admin who also gave the phrase or mnemonic holds the key hierarchy and
derives any version itself. Nothing in this module appears in a ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from neurallog.client.models import Profile, Version
from neurallog.client.tenant_chain import ChainTracker
from neurallog.crypto.envelope import EnvelopeOpener, EnvelopeSealer
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.crypto.working import WorkingKeys
from neurallog.errors import NoAccessToVersionError


@dataclass(eq=False, repr=False)
class Session:
    """Credentials and keys of an authenticated client."""

    tenant_id: str
    user_id: str
    role: str
    key_id: str
    profile: Profile
    #: The verified tenant chain (see :mod:`neurallog.client.tenant_chain`).
    chain: ChainTracker
    keypair: UserKeyPair | None = field(default=None, repr=False)
    hierarchy: KeyHierarchy | None = None
    versions: dict[str, Version] = field(default_factory=dict)
    _op_keks: dict[str, bytes] = field(default_factory=dict)
    #: The exact blob bytes each Operational KEK was opened from (skip re-verification).
    opened_blobs: dict[str, bytes] = field(default_factory=dict)
    _working: dict[str, WorkingKeys] = field(default_factory=dict)
    _sealers: dict[str, EnvelopeSealer] = field(default_factory=dict)
    _opener: EnvelopeOpener | None = None
    #: Restricts derivation to these versions (``version_ids=`` of initialize).
    only_versions: frozenset[str] | None = None
    #: Readers' certified key records by SHA-256 (:mod:`neurallog.client.key_cache`),
    #: loaded on the first version this session makes; ``new_records``: learned since.
    reader_records: dict[str, bytes] | None = None
    new_records: bool = False

    def __repr__(self) -> str:
        return (
            f"Session(tenant_id={self.tenant_id!r}, user_id={self.user_id!r}, "
            f"role={self.role!r}, versions={sorted(self.held())})"
        )

    # --- which versions ----------------------------------------------------------------

    def active(self) -> Version | None:
        return next((v for v in self.versions.values() if v.status == "active"), None)

    def can_derive(self, version_id: str) -> bool:
        if self.hierarchy is None:
            return False
        return self.only_versions is None or version_id in self.only_versions

    def held(self) -> set[str]:
        """Ids of the known versions this client can decrypt."""
        held = set(self._op_keks)
        held.update(v for v in self.versions if self.can_derive(v))
        return held - self.destroyed()

    def destroyed(self) -> set[str]:
        """Ids of the known versions that were destroyed (no key of theirs is kept)."""
        return {v.id for v in self.versions.values() if v.status == "destroyed"}

    def add_operational_kek(self, version_id: str, op_kek: bytes) -> None:
        if self._op_keks.get(version_id) != op_kek:
            self._op_keks[version_id] = bytes(op_kek)
            self._working.pop(version_id, None)
            self._sealers.pop(version_id, None)
            self._opener = None

    def forget_version(self, version_id: str) -> None:
        self._op_keks.pop(version_id, None)
        self.opened_blobs.pop(version_id, None)
        self._working.pop(version_id, None)
        self._sealers.pop(version_id, None)
        self._opener = None

    # --- keys --------------------------------------------------------------------------

    def operational_kek(self, version_id: str) -> bytes:
        """The Operational KEK of a version: derived (admin) or from a verified blob."""
        if self.can_derive(version_id):
            assert self.hierarchy is not None
            return self.hierarchy.operational_kek(version_id)
        found = self._op_keks.get(version_id)
        if found is None:
            raise NoAccessToVersionError(
                f"no access to KEK version {version_id}: this user holds no blob for it; "
                "ask a tenant admin to provision it (provision_kek_for_user)"
            )
        return found

    def working_keys(self, version_id: str) -> WorkingKeys:
        found = self._working.get(version_id)
        if found is None:
            found = WorkingKeys(self.tenant_id, version_id, self.operational_kek(version_id))
            self._working[version_id] = found
        return found

    def sealer(self, version_id: str) -> EnvelopeSealer:
        """One sealer per version, reused: one subkey per batch, counter nonces."""
        found = self._sealers.get(version_id)
        if found is None:
            found = EnvelopeSealer(
                self.tenant_id,
                version_id,
                self.working_keys(version_id).data_key,
                cipher=self.profile.cipher,
            )
            self._sealers[version_id] = found
        return found

    def opener(self) -> EnvelopeOpener:
        if self._opener is None or self._opener.versions != frozenset(self.held()):
            self._opener = EnvelopeOpener(
                self.tenant_id, {v: self.working_keys(v).data_key for v in self.held()}
            )
        return self._opener

    def wipe(self) -> None:
        """Drop every key reference (Python cannot zero memory, but it can let go)."""
        self.keypair = None
        self.hierarchy = None
        self._op_keks.clear()
        self.opened_blobs.clear()
        self._working.clear()
        self._sealers.clear()
        self._opener = None
