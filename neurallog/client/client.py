"""``AsyncNeuralLogClient``: the SDK's entry point, assembled from its parts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from neurallog.client.admin import AdminMixin
from neurallog.client.legacy import LegacyData, LegacyReader
from neurallog.client.logs import LogsMixin
from neurallog.client.models import AuditPage, AuditVerdict
from neurallog.client.recovery import RecoveryMixin
from neurallog.wire import paths


class AsyncNeuralLogClient(AdminMixin, RecoveryMixin, LogsMixin):
    """Async NeuralLog client on httpx.

    Typical use::

        async with AsyncNeuralLogClient("https://logs.example", api_key=key) as client:
            await client.log("app", {"event": "started"})
            page = await client.get_logs("app")

    Admins add ``await client.initialize_with_mnemonic(words)`` (or the recovery phrase)
    to manage versions, users and rotation. Keys never leave this object.
    """

    async def check_server(self) -> None:
        """Ask ``/readyz`` whether the server and its Redis answer; raise if they do not.

        A console or script calls it before anything irreversible (showing a new mnemonic,
        spending a bootstrap token), so a wrong or dead URL is found first.
        """
        await self._transport.get("/readyz")

    async def get_audit(
        self,
        *,
        action: str = "",
        actor: str = "",
        outcome: str = "",
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditPage:
        """Audit records, newest first (admins and auditors)."""
        params: dict[str, str | int] = {"limit": limit}
        for name, value in (("action", action), ("actor", actor), ("outcome", outcome)):
            if value:
                params[name] = value
        if cursor:
            params["cursor"] = cursor
        doc: Any = await self._transport.get(paths.AUDIT, params)
        return AuditPage.from_json(doc)

    async def verify_audit(self) -> AuditVerdict:
        """Check the audit hash chain on the server."""
        return AuditVerdict.from_json(await self._transport.get(paths.AUDIT_VERIFY))

    async def import_legacy_entries(
        self, log_name: str, entries: Iterable[Mapping[str, Any] | str], reader: LegacyReader
    ) -> list[str]:
        """Decrypt original-SDK entries with ``reader`` and log them here, re-encrypted."""
        return await self.log_batch(log_name, reader.read_all(entries))

    async def read_legacy_entries(
        self, entries: Iterable[Mapping[str, Any] | str]
    ) -> list[LegacyData]:
        """Decrypt original-SDK entries with this tenant's own ``neurallog-legacy`` keys.

        For a tenant bootstrapped with ``kdf="neurallog-legacy"`` and the original recovery
        phrase (and tenant id): the Operational KEKs are then the original SDK's.
        """
        hierarchy = self._need_hierarchy("reading legacy entries")
        return LegacyReader.from_hierarchy(hierarchy).read_all(entries)
