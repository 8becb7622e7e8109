"""Encrypted logs: write under the active version, read every version the client holds.

A log name never reaches the server: each version has its own stream, whose id is the
MAC of the name under that version's log-index key. Reading fetches one page of each
stream and merges them newest first by the server's sequence; the cursor records where
each stream stopped. Anything that fails to authenticate raises; nothing is returned as
it came. Every entry carries its writer session and counter (framing v3), so a page also
says which entries the server withheld, replayed or reordered
(:mod:`neurallog.client.integrity`).
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from typing import Any

from neurallog.client.appends import AppendsMixin
from neurallog.client.base import list_field
from neurallog.client.framing import (
    decode_cursor,
    decode_cursor_state,
    decode_data,
    decode_entry,
    encode_cursor,
    encode_data,
    seq_key,
)
from neurallog.client.integrity import SequenceCheck
from neurallog.client.models import (
    Entry,
    IntegrityFinding,
    LogEntry,
    LogPage,
)
from neurallog.client.sources import origin_streams
from neurallog.errors import (
    DecryptionError,
    FormatError,
    NoAccessToVersionError,
    NoActiveVersionError,
    NotFoundError,
    ServerIntegrityError,
)
from neurallog.wire import paths

MAX_LIMIT = 1000


__all__ = [
    "DeprecatedVersionWarning",
    "LogsMixin",
    "decode_cursor",
    "decode_data",
    "encode_cursor",
    "encode_data",
]


def _refuse_unchecked_duplicates(entries: list[LogEntry]) -> None:
    """An entry without a writer mark (framing v1/v2) returned twice: no sequence check
    can name it, so the page is refused as before (v3 duplicates are ``replayed``)."""
    ids = [e.id for e in entries if e.writer is None]
    if len(set(ids)) != len(ids):
        raise DecryptionError(
            "the server returned the same log entry twice: it may be replaying "
            "entries; nothing was returned"
        )


def _integrity_error(findings: tuple[IntegrityFinding, ...]) -> ServerIntegrityError:
    first = findings[0]
    more = f" (and {len(findings) - 1} more findings)" if len(findings) > 1 else ""
    return ServerIntegrityError(
        first.kind,
        f"{first.describe()}{more}: the server may be tampering with this log; "
        "nothing was returned",
    )


class DeprecatedVersionWarning(UserWarning):
    """Entries of a deprecated KEK version were decrypted (it should be phased out)."""


class LogsMixin(AppendsMixin):
    """``get_logs``, ``delete_log``, ``set_log_retention`` (and the writes of
    :class:`~neurallog.client.appends.AppendsMixin`, ``list_logs``)."""

    async def _require_chain_at_least(self, seq: int) -> None:
        """An entry was written by a client that had verified ``seq`` links: this client's
        chain must reach as far, or the server is showing it an older one (rollback)."""
        session = self._need_session()
        await self._sync_chain()
        if session.chain.length < seq:
            raise ServerIntegrityError(
                "rollback",
                f"an entry was written under {seq} chain links, but the server shows "
                f"{session.chain.length}",
            )

    async def get_logs(
        self, log_name: str, limit: int = 100, cursor: str | None = None, *, strict: bool = False
    ) -> LogPage:
        """Decrypted entries, newest first, across every version this client holds.

        Each page checks its writers' sequences (and the border with the pages before it,
        through the cursor): ``page.integrity`` lists entries withheld, replayed or
        reordered by the server. ``strict=True`` raises :class:`ServerIntegrityError`
        (reason ``withheld``, ``replayed`` or ``reordered``) instead of returning such a
        page.
        """
        if not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be 1..{MAX_LIMIT}")
        session = self._need_session()
        if cursor is None:
            await self.refresh()
            if not session.held():
                if not session.versions:
                    raise NoActiveVersionError(
                        "the tenant has no KEK version yet: an admin must create one"
                    )
                raise NoAccessToVersionError(
                    "this user holds no KEK version of the tenant: ask a tenant admin to "
                    "provision one (provision_kek_for_user)"
                )
            positions: dict[str, str | None] = {}
            writers: dict[str, int] = {}
        else:
            positions, writers = decode_cursor_state(cursor)
        sources = origin_streams(session, log_name)
        if cursor is None:
            positions = {o: "" for o in sources}
        live = {o: p for o, p in positions.items() if p is not None and o in sources}
        pages = await asyncio.gather(
            *(self._fetch_origin(sources[o], limit, live[o] or None) for o in live)
        )
        fetched: list[tuple[Entry, str, str, str]] = []  # entry, origin, holder, stream
        more: dict[str, bool] = {}
        for origin, (found, nxt) in zip(live, pages, strict=True):
            fetched += [(e, origin, h, st) for e, h, st in found]
            more[origin] = nxt
        fetched.sort(key=lambda f: (seq_key(f[0].seq), f[0].time, f[1]), reverse=True)
        taken = fetched[:limit]
        new_positions = dict(positions)
        for origin in live:
            mine = [f[0] for f in taken if f[1] == origin]
            total = sum(1 for f in fetched if f[1] == origin)
            if len(mine) == total and not more[origin]:
                new_positions[origin] = None
            elif mine:
                new_positions[origin] = mine[-1].seq
        for origin in positions.keys() - live.keys():
            new_positions[origin] = None
        done = all(p is None for p in new_positions.values())
        out = [self._decrypt(log_name, e, h, st) for e, _, h, st in taken]
        _refuse_unchecked_duplicates(out)
        await self._check_chain_positions(out)
        check = SequenceCheck(writers)
        findings = tuple(check.check(out))
        if strict and findings:
            raise _integrity_error(findings)
        self._warn_deprecated({h for _, _, h, _ in taken})
        unreadable = tuple(v for v in session.versions if v not in session.held())
        next_cursor = None if done else encode_cursor(new_positions, check.last)
        return LogPage(out, next_cursor, unreadable, findings)

    async def _fetch_origin(
        self, streams: list[tuple[str, str]], limit: int, before: str | None
    ) -> tuple[list[tuple[Entry, str, str]], bool]:
        """One page of one origin's entries: its streams read one after the other in
        the order a rewrap moves entries (an entry moved meanwhile is found in a later
        stream, never missed), an entry found twice (same seq and id) kept once.
        Returns ((entry, holder version, stream id) newest first, whether more remain)."""
        found: dict[tuple[str, str], tuple[Entry, str, str]] = {}
        more = False
        for holder, stream in streams:
            entries, nxt = await self._fetch(stream, limit, before)
            more = more or nxt is not None
            for entry in entries:
                found[(entry.seq, entry.id)] = (entry, holder, stream)
        merged = sorted(found.values(), key=lambda f: seq_key(f[0].seq), reverse=True)
        return merged, more

    async def _check_chain_positions(self, entries: list[LogEntry]) -> None:
        """Entries written by a client that had verified a newer tenant chain than this
        one: this client's view of the chain must reach that far (or the server is
        showing it an old one)."""
        newest = max((e.chain_seq or 0 for e in entries), default=0)
        if newest > self._chain_position():
            await self._require_chain_at_least(newest)

    async def _fetch(
        self, stream: str, limit: int, before: str | None
    ) -> tuple[list[Entry], str | None]:
        params: dict[str, str | int] = {"limit": limit}
        if before:
            params["before"] = before
        doc = await self._transport.get(paths.url(paths.LOG_ENTRIES, stream_id=stream), params)
        entries = [Entry.from_json(e) for e in list_field(doc, "entries")]
        nxt = doc.get("next")
        return entries, (str(nxt) if nxt else None)

    def _decrypt(self, log_name: str, entry: Entry, version_id: str, stream: str) -> LogEntry:
        session = self._need_session()
        try:
            if entry.version_id != version_id:
                raise DecryptionError("version mismatch")
            plaintext = session.opener().open(
                entry.envelope, stream_id=stream, entry_id=entry.id, version_id=version_id
            )
        except (DecryptionError, FormatError):
            raise DecryptionError(
                f"log entry {entry.id} failed to authenticate: it was moved, replayed or "
                "altered (the server may be tampering); nothing was returned"
            ) from None
        frame = decode_entry(plaintext)
        mark = frame.mark
        return LogEntry(
            id=entry.id,
            log_name=log_name,
            data=frame.data,
            version_id=version_id,
            seq=entry.seq,
            time=entry.time,
            logged_at=frame.logged_at,
            writer=None if mark is None else mark.writer.hex(),
            counter=None if mark is None else mark.counter,
            chain_seq=None if mark is None else mark.chain_seq,
        )

    def _warn_deprecated(self, version_ids: set[str]) -> None:
        session = self._need_session()
        for version_id in sorted(version_ids):
            version = session.versions.get(version_id)
            if version is not None and version.status == "deprecated":
                warnings.warn(
                    f"entries of deprecated KEK version {version_id} were decrypted; "
                    "re-encrypt or phase them out",
                    DeprecatedVersionWarning,
                    stacklevel=3,
                )

    async def delete_log(self, log_name: str) -> None:
        """Delete the log's stream under every version this client holds (admins only)."""
        session = self._need_session()
        await self.refresh()
        for streams in origin_streams(session, log_name).values():
            for version_id, stream in streams:
                with contextlib.suppress(NotFoundError):
                    await self._transport.delete(paths.url(paths.LOG, stream_id=stream))
                # the server dropped the stream's catalogue record with it: a later write
                # under that name must send one again
                self._catalogued.discard((version_id, stream))

    async def set_log_retention(
        self, log_name: str, *, max_entries: int | None = None, max_age_seconds: int | None = None
    ) -> None:
        """Retention of the log's stream of the active version (applied on append).

        Admins only: retention trims entries, so a member gets ``PermissionDeniedError``.
        """
        session = self._need_session()
        version = await self._write_version()
        stream = session.working_keys(version.id).stream_id(log_name)
        body: dict[str, Any] = {"max_entries": max_entries, "max_age_seconds": max_age_seconds}
        await self._transport.put(paths.url(paths.LOG_RETENTION, stream_id=stream), body)
