"""The encrypted log catalogue: which logs exist, for whoever holds their version.

A writer sends, with its first append to each (version, stream), the log name sealed
under the version's catalogue key (:mod:`neurallog.crypto.catalogue`); the server keeps
the first record of each stream. :meth:`CatalogueMixin.list_logs` opens every record of
every version this client holds. A record that does not open (moved between streams or
versions, altered, or naming another stream) raises :class:`CatalogueRecordError`: a
listing is complete or refused, never silently shorter.
"""

from __future__ import annotations

from neurallog.client.base import ClientBase, list_field
from neurallog.client.models import CatalogueLog, CatalogueRecord, b64e
from neurallog.crypto.catalogue import open_record, seal_name
from neurallog.errors import CatalogueRecordError, DecryptionError, FormatError
from neurallog.wire import paths

CATALOGUE_PAGE = 1000
"""Records per ``GET /api/logs`` (the route's maximum)."""


class CatalogueMixin(ClientBase):
    """``list_logs``, and the catalogue record an append carries."""

    def _catalogue_record(
        self, version_id: str, stream: str, log_name: str, origin: str | None = None
    ) -> str | None:
        """The sealed name to send with an append to ``stream`` (with ``origin``, a rewrap
        into it), or None when this client has already recorded it (the server keeps the
        first record anyway)."""
        if (version_id, stream) in self._catalogued:
            return None
        keys = self._need_session().working_keys(version_id)
        return b64e(seal_name(keys, log_name, origin=origin))

    def _catalogue_recorded(self, version_id: str, stream: str) -> None:
        """The server has the stream's record (an append carrying it succeeded)."""
        self._catalogued.add((version_id, stream))

    async def list_logs(self) -> list[CatalogueLog]:
        """Every log of the catalogue this client can open, by name, each with the
        versions it has a stream in (of the versions this client holds).

        Raises :class:`CatalogueRecordError` naming the stream if any record fails to
        authenticate. Logs written before the catalogue existed appear once a client
        writes to them again.
        """
        session = self._need_session()
        await self.refresh()
        found: dict[str, list[str]] = {}
        order = [v for v in session.versions if v in session.held()]
        for version_id in order:
            for record in await self._catalogue(version_id):
                name = self._open_record(version_id, record)
                versions = found.setdefault(name, [])
                if version_id not in versions:  # its own stream and rewrapped ones
                    versions.append(version_id)
        return [CatalogueLog(name, tuple(found[name])) for name in sorted(found)]

    async def _catalogue(self, version_id: str) -> list[CatalogueRecord]:
        """Every record of one version's catalogue, page by page."""
        records: list[CatalogueRecord] = []
        after: str | None = None
        while True:
            params: dict[str, str | int] = {"version": version_id, "limit": CATALOGUE_PAGE}
            if after:
                params["after"] = after
            doc = await self._transport.get(paths.LOGS, params)
            records += [CatalogueRecord.from_json(r) for r in list_field(doc, "logs")]
            nxt = doc.get("next")
            if not nxt:
                return records
            after = str(nxt)

    def _open_record(self, version_id: str, record: CatalogueRecord) -> str:
        return self._open_origin(version_id, record)[0]

    def _open_origin(self, version_id: str, record: CatalogueRecord) -> tuple[str, str]:
        """``(name, origin)`` of a record: the origin is the version whose entries the
        stream holds (``version_id`` itself, or an older one rewrapped into it)."""
        keys = self._need_session().working_keys(version_id)
        try:
            if record.version_id != version_id:
                raise DecryptionError("version mismatch")
            name, origin = open_record(keys, record.stream_id, record.sealed_name)
            return name, origin or version_id
        except (DecryptionError, FormatError):
            raise CatalogueRecordError(record.stream_id, version_id) from None
