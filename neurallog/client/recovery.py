"""Recovery and custody in the admin's client: SLIP-39 shares and custody plugins.

Shares recover the tenant's BIP-39 mnemonic, which then takes the usual path (key check,
signing key). A custody plugin keeps this admin's Master KEK wrapped by an external key
(OS keyring, HSM) in a local file, so the admin can unlock without typing the words. None
of this talks to the server beyond what ``initialize_with_mnemonic`` already does.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from neurallog.client import custody as store
from neurallog.client.base import ClientBase, check_hierarchy
from neurallog.crypto.hierarchy import LEGACY_KDF, SCHEME_LEGACY, SCHEME_V1, KeyHierarchy
from neurallog.crypto.mnemonic import validate_mnemonic
from neurallog.crypto.shares import ShareCollector, ShareScheme, combine_shares, split_mnemonic
from neurallog.errors import CustodyError, WrongRecoveryPhraseError


class RecoveryMixin(ClientBase):
    """``initialize_with_shares``, ``create_recovery_shares`` and the custody calls."""

    async def initialize_with_shares(
        self,
        shares: Iterable[str] | ShareCollector,
        passphrase: str = "",
        version_ids: list[str] | None = None,
    ) -> None:
        """Load the key hierarchy from SLIP-39 shares of the tenant mnemonic (admins).

        ``shares`` are share strings, or a :class:`ShareCollector` filled one by one. A
        wrong SLIP-39 passphrase gives other words, refused by the tenant's key check.
        """
        session = self._need_session()
        if session.profile.secret_kind != "mnemonic":  # noqa: S105 (a kind, not a secret)
            raise WrongRecoveryPhraseError(
                "this tenant was created with a recovery phrase: SLIP-39 shares split a "
                "BIP-39 mnemonic only; use initialize_with_recovery_phrase()"
            )
        if isinstance(shares, ShareCollector):
            mnemonic = shares.recover(passphrase)
        else:
            mnemonic = combine_shares(shares, passphrase=passphrase)
        try:
            await self.initialize_with_mnemonic(mnemonic, version_ids)
        except WrongRecoveryPhraseError:
            raise WrongRecoveryPhraseError(
                "the shares combine, but not to this tenant's mnemonic: check the SLIP-39 "
                "passphrase and that the shares are this tenant's"
            ) from None

    async def create_recovery_shares(
        self,
        mnemonic: str,
        scheme: ShareScheme | None = None,
        *,
        passphrase: str = "",
    ) -> list[list[str]]:
        """Split the tenant's mnemonic into SLIP-39 shares, one list per group.

        The words are checked against the tenant first (a split of the wrong words would
        be worse than none), and the new shares are combined once more before they are
        handed out. Nothing is sent to the server.
        """
        session = self._need_session()
        if session.profile.secret_kind != "mnemonic":  # noqa: S105
            raise WrongRecoveryPhraseError(
                "this tenant was created with a recovery phrase: shares split a BIP-39 "
                "mnemonic only (see docs/recovery.md)"
            )
        check_hierarchy(KeyHierarchy.from_mnemonic(session.tenant_id, mnemonic), session.profile)
        scheme = scheme or ShareScheme()
        groups = split_mnemonic(mnemonic, scheme, passphrase=passphrase)
        picked = [
            share
            for (threshold, _), group in list(zip(scheme.groups, groups, strict=True))[
                : scheme.group_threshold
            ]
            for share in group[:threshold]
        ]
        if combine_shares(picked, passphrase=passphrase) != validate_mnemonic(mnemonic):
            raise AssertionError("the new shares do not combine to the words")  # pragma: no cover
        return groups

    # --- custody ---------------------------------------------------------------------------

    async def enable_custody(
        self, plugin: str, *, directory: str | os.PathLike[str] | None = None
    ) -> Path:
        """Wrap this admin's Master KEK with a custody plugin; store it locally; return the path.

        Needs an initialised admin (words, shares or phrase given in this session).
        """
        from neurallog.plugins import get_custody

        hierarchy = self._need_hierarchy("enabling custody")
        session = self._need_session()
        checked = get_custody(plugin)
        blob = checked.wrap(session.tenant_id, session.user_id, hierarchy.master_kek)
        record = store.CustodyRecord(session.tenant_id, session.user_id, checked.name, blob)
        path = store.write_record(record, store.custody_dir(directory))
        # Prove the round trip now, not on the day the words are in a safe.
        await self.initialize_with_custody(directory=directory)
        return path

    async def initialize_with_custody(
        self,
        version_ids: list[str] | None = None,
        *,
        directory: str | os.PathLike[str] | None = None,
    ) -> None:
        """Unlock with this machine's custody record: the plugin unwraps the Master KEK."""
        from neurallog.plugins import get_custody

        session = self._need_session()
        record = store.read_record(session.tenant_id, session.user_id, store.custody_dir(directory))
        master_kek = get_custody(record.plugin).unwrap(
            session.tenant_id, session.user_id, record.blob
        )
        profile = session.profile
        hierarchy = KeyHierarchy(
            session.tenant_id,
            master_kek,
            kdf=profile.kdf,
            kdf_params=dict(profile.kdf_params),
            secret_kind=profile.secret_kind,
            scheme=SCHEME_LEGACY if profile.kdf == LEGACY_KDF else SCHEME_V1,
        )
        del master_kek
        try:
            await self._install_hierarchy(hierarchy, version_ids)
        except WrongRecoveryPhraseError:
            raise CustodyError(
                "the key in the custody record does not match this tenant any more: "
                "disable custody and enable it again with the words"
            ) from None

    async def disable_custody(self, *, directory: str | os.PathLike[str] | None = None) -> bool:
        """Delete this admin's custody record (and the plugin's external key, if it can)."""
        from neurallog.plugins import get_custody

        session = self._need_session()
        folder = store.custody_dir(directory)
        try:
            record = store.read_record(session.tenant_id, session.user_id, folder)
        except CustodyError:
            return store.delete_record(session.tenant_id, session.user_id, folder)
        get_custody(record.plugin).forget(session.tenant_id, session.user_id)
        return store.delete_record(session.tenant_id, session.user_id, folder)
