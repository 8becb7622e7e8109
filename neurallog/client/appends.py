"""Writing encrypted log entries: ``log`` and ``log_batch``.

Entries are framed (v3: writer session, counter, chain position; see
:mod:`neurallog.client.framing`), sealed under the active version and sent in chunks of
at most 500 in the packed form (docs/api.md). Appends to one log name are serialised so
their counters reach the server in order; while one chunk is at the server, the next is
sealed, and sent once the first is answered.
"""

from __future__ import annotations

import asyncio
from binascii import b2a_base64
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from neurallog.client.catalogue import CatalogueMixin
from neurallog.client.framing import V3_OVERHEAD, encode_body, frame_chunk, now_ms
from neurallog.client.models import LogData, Version
from neurallog.crypto.working import new_entry_ids
from neurallog.errors import (
    ApiError,
    ClientError,
    ConflictError,
    NoAccessToVersionError,
    NoActiveVersionError,
)
from neurallog.wire import paths

MAX_BATCH = 500
MAX_BATCH_BYTES = 4 * 1024 * 1024
#: entries sealed between two yields to the event loop (see ``_seal_append``)
SEAL_SLICE = 64
#: Envelopes are at most 1 MiB; keep room for the header, nonce and tag.
MAX_ENTRY_PLAINTEXT = 1024 * 1024 - 512


def _chunks(bodies: list[bytes]) -> Iterator[list[bytes]]:
    """At most ``MAX_BATCH`` entries and ``MAX_BATCH_BYTES`` (framed) per request."""
    chunk: list[bytes] = []
    size = 0
    for body in bodies:
        framed = len(body) + V3_OVERHEAD
        if chunk and (len(chunk) >= MAX_BATCH or size + framed > MAX_BATCH_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(body)
        size += framed
    if chunk:
        yield chunk


def _cancelling() -> bool:
    """Whether the current task is being cancelled."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _maybe_stored(exc: ClientError) -> bool:
    """Whether entries of a failed append may still have been stored."""
    return isinstance(exc, ApiError) and (exc.status >= 500 or exc.status == 429)


@dataclass(frozen=True, slots=True)
class _Sealed:
    """One chunk sealed for an append: its version, stream, entry ids and JSON body."""

    version_id: str
    stream: str
    ids: list[str]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Flight:
    """A chunk sent and not yet answered, with the writer counters it took."""

    task: asyncio.Future[list[str]]
    writer: bytes
    first: int
    count: int


class AppendsMixin(CatalogueMixin):
    """``log`` and ``log_batch``."""

    async def log(self, log_name: str, data: LogData) -> str:
        """Encrypt and append one entry; return its id. dict/list -> JSON, str, bytes."""
        return (await self.log_batch(log_name, [data]))[0]

    async def log_batch(self, log_name: str, items: Iterable[LogData]) -> list[str]:
        """Encrypt and append many entries (sent in chunks of at most 500).

        The entries take consecutive counters of this client's writer session; appends to
        one log name are serialised, so counters reach the server in order. While one
        chunk is at the server the next is sealed (sent only once the first is answered).
        """
        ms = now_ms()
        bodies = [encode_body(item) for item in items]
        for body in bodies:
            if len(body) + V3_OVERHEAD > MAX_ENTRY_PLAINTEXT:
                raise ValueError(
                    f"log entry too large ({len(body) + V3_OVERHEAD} bytes framed); the server "
                    f"takes at most {MAX_ENTRY_PLAINTEXT} bytes per entry: split it"
                )
        ids: list[str] = []
        async with self._writer.lock(log_name):
            flight: _Flight | None = None  # the chunk at the server, not yet answered
            for chunk in _chunks(bodies):
                writer, first = self._writer.take(log_name, len(chunk))
                try:
                    payloads = frame_chunk(chunk, ms, writer, first, self._chain_position())
                    request = await self._seal_append(log_name, payloads)
                    if flight is not None:
                        ids += await flight.task
                        flight = None
                except BaseException:
                    # This chunk was never sent: its counters go back (they are the newest),
                    # then the previous chunk's if the server surely stored none of it.
                    self._writer.give_back(log_name, writer, first, len(chunk))
                    if flight is not None:
                        await self._settle(log_name, flight)
                    raise
                task = asyncio.ensure_future(self._send_append(log_name, payloads, request))
                flight = _Flight(task, writer, first, len(chunk))
            if flight is not None:
                try:
                    ids += await flight.task
                except BaseException:
                    await self._settle(log_name, flight)
                    raise
        return ids

    async def _settle(self, log_name: str, flight: _Flight) -> None:
        """After a failure: give the chunk's counters back if the server refused it.

        A refusal stored nothing: the counters are reused. After a lost connection or a
        5xx the entries may be stored: their counters stay spent, and a reader sees a gap
        (a lost write) rather than one counter used twice. A chunk still in flight is
        waited for, or cancelled with the caller (its entries may then be stored, so its
        counters stay spent): nothing of this batch is left running once it returns, so
        the next append of the log name cannot overtake it.
        """
        task = flight.task
        if not task.done():
            if _cancelling():
                task.cancel()
            try:
                await asyncio.wait({task})
            except asyncio.CancelledError:
                task.cancel()
                raise
        if task.cancelled():
            return
        exc = task.exception()
        if isinstance(exc, ClientError) and not _maybe_stored(exc):
            self._writer.give_back(log_name, flight.writer, flight.first, flight.count)

    def _chain_position(self) -> int:
        """How many tenant-chain links this client has verified (written into every entry;
        0 for a tenant whose chain has not started)."""
        session = self._session
        return 0 if session is None else session.chain.length

    async def _seal_append(self, log_name: str, payloads: list[bytes]) -> _Sealed:
        """Seal ``payloads`` under the active version into an append body (packed form).

        It yields to the event loop every ``SEAL_SLICE`` entries, so that a chunk sent
        just before goes out while this one is sealed.
        """
        session = self._need_session()
        version = await self._write_version()
        stream = session.working_keys(version.id).stream_id(log_name)
        seal, vid = session.sealer(version.id).seal, version.id
        ids = new_entry_ids(len(payloads))
        # The packed form: one string per entry, its id then its envelope (500 small
        # objects cost the server more to parse, check and pass to Redis than to store).
        packed: list[str] = []
        for start in range(0, len(payloads), SEAL_SLICE):
            if start:
                await asyncio.sleep(0)
            packed += [
                i + b2a_base64(seal(stream, i, p), newline=False).decode("ascii")
                for i, p in zip(
                    ids[start : start + SEAL_SLICE],
                    payloads[start : start + SEAL_SLICE],
                    strict=True,
                )
            ]
        body: dict[str, Any] = {"version_id": vid, "packed": packed}
        sealed_name = self._catalogue_record(vid, stream, log_name)
        if sealed_name is not None:
            body["sealed_name"] = sealed_name
        # Only strings: orjson writes the same UTF-8 JSON as httpx's json module, several
        # times faster (that encoding was a sixth of the client's time).
        return _Sealed(vid, stream, ids, orjson.dumps(body))

    async def _append(self, log_name: str, payloads: list[bytes]) -> list[str]:
        """Seal and send one chunk of framed plaintexts (no writer counters are taken:
        tests write what older clients wrote with it)."""
        request = await self._seal_append(log_name, payloads)
        return await self._send_append(log_name, payloads, request)

    async def _send_append(
        self, log_name: str, payloads: list[bytes], request: _Sealed
    ) -> list[str]:
        """POST a sealed chunk; after a 409 (most likely a rotation made its version
        decrypt-only) reload, seal again under the new active version and retry once."""
        session = self._need_session()
        for attempt in range(2):
            try:
                await self._transport.post_encoded(
                    paths.url(paths.LOG_ENTRIES, stream_id=request.stream),
                    request.body,
                    idempotent=True,
                )
                self._catalogue_recorded(request.version_id, request.stream)
                return request.ids
            except ConflictError:
                await self.refresh()
                current = session.active()
                if attempt or current is None or current.id == request.version_id:
                    raise
                request = await self._seal_append(log_name, payloads)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _write_version(self) -> Version:
        session = self._need_session()
        active = session.active()
        if active is None or active.id not in session.held():
            await self.refresh()
            active = session.active()
        if active is None:
            raise NoActiveVersionError(
                "the tenant has no active KEK version: an admin must create one"
            )
        if active.id not in session.held():
            raise NoAccessToVersionError(
                f"no access to the active KEK version {active.id}: ask a tenant admin to "
                "provision it for this user (provision_kek_for_user)"
            )
        return active
