"""``AsyncNeuralLogClient``: the SDK's entry point, assembled from its parts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from neurallog.client.admin import AdminMixin
from neurallog.client.audit_check import ChainCheck
from neurallog.client.legacy import LegacyData, LegacyReader
from neurallog.client.models import AuditCheckpoint, AuditPage, AuditRecord, AuditVerdict
from neurallog.client.recovery import RecoveryMixin
from neurallog.client.rewrap import RewrapMixin
from neurallog.errors import FormatError, ServerIntegrityError
from neurallog.wire import paths

AUDIT_PAGE = 1000
"""Records per ``GET /api/audit`` while verifying (the route's maximum)."""


class AsyncNeuralLogClient(AdminMixin, RecoveryMixin, RewrapMixin):
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

    async def _audit_checkpoint(self) -> tuple[int, str] | None:
        """The newest admin-signed audit checkpoint (count, head hash) of the verified
        tenant chain, which the server cannot forge; None before any link carries one
        (then only the chain's own consistency is checked)."""
        state = await self._sync_chain()
        if state is None or state.audit is None:
            return None
        return state.audit.count, state.audit.head

    async def verify_audit(
        self, *, strict: bool = False, progress: Callable[[int], None] | None = None
    ) -> AuditVerdict:
        """Recompute the audit hash chain here, from every record (admins and auditors).

        Walks ``GET /api/audit`` to the oldest record and checks each hash, each link and
        the trusted checkpoint of :meth:`_audit_checkpoint` (docs/formats.md, "Audit
        record hash"). The server's own ``/api/audit/verify`` is never asked: a server
        that drops a record and re-hashes the rest would vouch for itself. Without a
        checkpoint such a consistent rewrite is not detectable; the verdict says which
        checkpoint was checked. ``progress`` gets the number of records fetched after each
        page; ``strict`` raises :class:`ServerIntegrityError` (``audit_rewritten``)
        instead of returning a broken verdict.
        """
        found = await self._audit_checkpoint()
        checkpoint = None if found is None else AuditCheckpoint(*found)
        pages = await self._audit_pages(progress)
        check = ChainCheck(checkpoint)
        for page in reversed(pages):  # pages and records come newest first
            if not all(check.feed(record) for record in reversed(page)):
                break
        verdict = check.verdict()
        if strict and not verdict.intact:
            at = f"record {verdict.first_broken}" if verdict.first_broken else "the end"
            raise ServerIntegrityError(
                "audit_rewritten",
                f"the audit log does not verify: {verdict.reason} at {at} "
                f"({verdict.records} records checked)",
            )
        return verdict

    async def _audit_pages(self, progress: Callable[[int], None] | None) -> list[list[AuditRecord]]:
        """Every audit record, in pages as listed (newest first); a cursor must move back."""
        pages: list[list[AuditRecord]] = []
        cursor: str | None = None
        fetched = 0
        while True:
            page = await self.get_audit(limit=AUDIT_PAGE, cursor=cursor)
            pages.append(page.records)
            fetched += len(page.records)
            if progress is not None:
                progress(fetched)
            if page.next is None or not page.records:
                return pages
            if cursor is not None and _seq_key(page.next) >= _seq_key(cursor):
                raise ServerIntegrityError(
                    "audit_rewritten", f"the audit listing went back to {page.next}"
                )
            cursor = page.next

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


def _seq_key(seq: str) -> tuple[int, int]:
    """A stream id ``ms-n`` as numbers, to compare cursors."""
    ms, _, n = seq.partition("-")
    if not (ms.isdigit() and n.isdigit()):
        raise FormatError(f"audit cursor {seq[:40]!r}: not a stream id")
    return int(ms), int(n)
