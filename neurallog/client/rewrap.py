"""Rewrap: re-encrypt the entries of older KEK versions under the active one.

For each older version, log by log (through its catalogue), the client reads the oldest
entries of each stream, opens them (failing closed on anything that does not
authenticate), seals the same plaintext under the active version for the log's rewrapped
stream of that origin (:mod:`neurallog.client.sources`) and sends the chunk to
``POST /api/logs/<stream_id>/rewrap``. The server appends the new entries with their
original seq and id and deletes the originals in one Lua step, so an interruption loses
and duplicates nothing: running the rewrap again continues with what is left. Readers see
the same data, seq, time, id and writer marks (the plaintext frame is unchanged); only
``version_id`` (the version an entry is encrypted under) changes.
"""

from __future__ import annotations

import asyncio
import contextlib
from binascii import b2a_base64
from collections.abc import Callable, Sequence
from typing import Any

import orjson

from neurallog.client.appends import MAX_BATCH_BYTES
from neurallog.client.base import list_field
from neurallog.client.logs import LogsMixin
from neurallog.client.models import CatalogueRecord, Entry, RewrapProgress, RewrapReport
from neurallog.client.sources import creation_order
from neurallog.errors import (
    ConflictError,
    DecryptionError,
    FormatError,
    NoAccessToVersionError,
)
from neurallog.wire import paths

#: entries per rewrap request at most (the route's maximum)
MAX_REWRAP_CHUNK = 500
#: conflicts in a row (another rewrap moving the same entries) before giving up
MAX_CONFLICTS = 50


class RewrapMixin(LogsMixin):
    """``rewrap``: move older versions' entries to the active version."""

    async def rewrap(
        self,
        versions: Sequence[str] | None = None,
        *,
        progress: Callable[[RewrapProgress], None] | None = None,
        dry_run: bool = False,
        chunk: int = 500,
    ) -> RewrapReport:
        """Re-encrypt every entry of the given older ``versions`` under the active
        version, log by log; default: every version this client holds that is neither
        active nor destroyed. An admin (unlocked) or a member holding the versions.

        ``progress`` is called as each chunk lands (and once per log at 0). ``dry_run``
        only counts. Safe to interrupt and run again, and to run beside writers, readers
        and other rewraps. Afterwards a version with no entries left can be destroyed
        (``destroy_kek_version``).
        """
        if not 1 <= chunk <= MAX_REWRAP_CHUNK:
            raise ValueError(f"chunk must be 1..{MAX_REWRAP_CHUNK}")
        session = self._need_session()
        await self.refresh()
        target = await self._write_version()
        held = session.held()
        order = [v.id for v in creation_order(session)]
        if versions is None:
            sources = [
                v
                for v in order
                if v != target.id and v in held and session.versions[v].status != "destroyed"
            ]
        else:
            sources = self._rewrap_sources(list(versions), target.id)
        # every stream of the sources, grouped by (log name, origin version)
        work: dict[tuple[str, str], list[tuple[str, CatalogueRecord]]] = {}
        for version_id in sources:
            for record in await self._catalogue(version_id):
                name, origin = self._open_origin(version_id, record)
                work.setdefault((name, origin), []).append((version_id, record))
        rank = {v: i for i, v in enumerate(order)}
        logs: set[str] = set()
        moved = counted = 0
        for (name, origin), streams in sorted(work.items()):
            # the newest holder keeps the oldest entries of the origin: it moves first
            streams.sort(key=lambda s: rank[s[0]], reverse=True)
            dest = session.working_keys(target.id).rewrap_stream_id(origin, name)
            for version_id, record in streams:
                if record.entries == 0:
                    continue
                logs.add(name)
                counted += record.entries
                if progress is not None:
                    progress(RewrapProgress(name, version_id, 0, record.entries))
                if dry_run:
                    continue
                moved += await self._rewrap_stream(
                    (name, origin), version_id, record, (target.id, dest), chunk, progress
                )
        return RewrapReport(tuple(sources), len(logs), moved, counted, dry_run)

    def _rewrap_sources(self, versions: list[str], target: str) -> list[str]:
        session = self._need_session()
        for version_id in versions:
            version = session.versions.get(version_id)
            if version is None:
                raise ValueError(f"unknown KEK version {version_id}")
            if version_id == target:
                raise ValueError(
                    f"version {version_id} is the active version: rewrap moves entries to it"
                )
            if version.status == "destroyed":
                raise ValueError(f"version {version_id} was destroyed: nothing is left in it")
            if version_id not in session.held():
                raise NoAccessToVersionError(
                    f"no access to KEK version {version_id}: only its holders can rewrap it"
                )
        return list(dict.fromkeys(versions))

    async def _oldest(self, stream: str, limit: int, after: str | None = None) -> list[Entry]:
        """The ``limit`` oldest entries of a stream (after the exclusive seq ``after``)."""
        params: dict[str, str | int] = {"limit": limit, "order": "oldest"}
        if after is not None:
            params["after"] = after
        doc = await self._transport.get(paths.url(paths.LOG_ENTRIES, stream_id=stream), params)
        return [Entry.from_json(e) for e in list_field(doc, "entries")]

    def _reseal(
        self, entries: list[Entry], version_id: str, source: str, target: str, dest: str
    ) -> list[dict[str, str]]:
        """Open each entry of ``source`` (failing closed) and seal the same plaintext for
        ``dest`` under ``target``, keeping its seq and id."""
        session = self._need_session()
        sealer = session.sealer(target)
        opener = session.opener()
        moved: list[dict[str, str]] = []
        for entry in entries:
            try:
                if entry.version_id != version_id:
                    raise DecryptionError("version mismatch")
                plaintext = opener.open(
                    entry.envelope, stream_id=source, entry_id=entry.id, version_id=version_id
                )
            except (DecryptionError, FormatError):
                raise DecryptionError(
                    f"log entry {entry.id} failed to authenticate: it was moved, replayed "
                    "or altered (the server may be tampering); nothing was rewrapped"
                ) from None
            envelope = sealer.seal(dest, entry.id, plaintext)
            moved.append(
                {
                    "seq": entry.seq,
                    "id": entry.id,
                    "envelope": b2a_base64(envelope, newline=False).decode("ascii"),
                }
            )
        return moved

    async def _rewrap_stream(
        self,
        log: tuple[str, str],
        version_id: str,
        record: CatalogueRecord,
        into: tuple[str, str],
        chunk: int,
        progress: Callable[[RewrapProgress], None] | None,
    ) -> int:
        """Move every entry of one stream of log ``(name, origin)``, oldest first, chunk by
        chunk, into ``(target version, stream)``. The next chunk is read (after the last
        seq of this one) while this one is sent; a conflict reads from the start again."""
        session = self._need_session()
        name, origin = log
        target, dest = into
        source = record.stream_id
        done = conflicts = 0
        total = record.entries
        entries = await self._oldest(source, chunk)
        while entries:
            moved = self._reseal(entries, version_id, source, target, dest)
            ahead = asyncio.ensure_future(self._oldest(source, chunk, entries[-1].seq))
            try:
                for part in _parts(moved):
                    body: dict[str, Any] = {
                        "from_version": version_id,
                        "to_version": target,
                        "to_stream": dest,
                        "entries": part,
                    }
                    sealed = self._catalogue_record(target, dest, name, origin)
                    if sealed is not None:
                        body["sealed_name"] = sealed
                    doc = await self._transport.post_encoded(
                        paths.url(paths.LOG_REWRAP, stream_id=source), orjson.dumps(body)
                    )
                    self._catalogue_recorded(target, dest)
                    done += _count(doc, "moved")
                    total = max(total, done + _count(doc, "remaining"))
                    if progress is not None:
                        progress(RewrapProgress(name, version_id, done, total))
                conflicts = 0
            except ConflictError:
                # another rewrap (or retention) moved some of these first, or a rotation
                # made the target decrypt-only: read again (a rotation is refused below)
                await _drop(ahead)
                conflicts += 1
                await self.refresh()
                active = session.active()
                if conflicts >= MAX_CONFLICTS or active is None or active.id != target:
                    raise
                entries = await self._oldest(source, chunk)
                continue
            except BaseException:
                await _drop(ahead)
                raise
            entries = await ahead
        return done


async def _drop(task: asyncio.Future[list[Entry]]) -> None:
    """Cancel a read ahead and wait for it (its result or error no longer matters)."""
    task.cancel()
    with contextlib.suppress(BaseException):
        await task


def _count(doc: Any, name: str) -> int:
    value = doc.get(name) if isinstance(doc, dict) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise FormatError(f"rewrap reply: {name} must be a count")
    return value


def _parts(moved: list[dict[str, str]]) -> list[list[dict[str, str]]]:
    """Split a chunk so no request exceeds the append's byte budget."""
    parts: list[list[dict[str, str]]] = []
    current: list[dict[str, str]] = []
    size = 0
    for item in moved:
        weight = len(item["envelope"]) + 100
        if current and size + weight > MAX_BATCH_BYTES:
            parts.append(current)
            current, size = [], 0
        current.append(item)
        size += weight
    if current:
        parts.append(current)
    return parts
