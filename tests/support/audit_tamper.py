"""A malicious server's edits of a tenant's audit stream, made in Redis behind its back.

A stream cannot be edited in place, so each edit rebuilds the whole stream (same ids, in
order) in one MULTI/EXEC guarded by WATCH: a record the live server appends meanwhile
makes the edit start again instead of being lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from neurallog.storage import keyspace
from neurallog.storage.audit import FIELDS, GENESIS, record_hash

Record = tuple[str, dict[str, str]]
Edit = Callable[[list[Record]], tuple[list[Record], str | None]]


def records(client: redis.Redis[Any], tenant: str) -> list[Record]:
    """Every record, oldest first, as (seq, fields) text."""
    rows = client.xrange(keyspace.audit(tenant))
    return [(_text(seq), {_text(k): _text(v) for k, v in fields.items()}) for seq, fields in rows]


def rewrite(client: redis.Redis[Any], tenant: str, edit: Edit) -> list[Record]:
    """Apply ``edit`` (records -> new records, new head or None to keep it) atomically."""
    stream, head = keyspace.audit(tenant), keyspace.audit_head(tenant)
    while True:
        with client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(stream, head)
                new, new_head = edit(records(client, tenant))
                pipe.multi()
                pipe.delete(stream)
                for seq, fields in new:
                    pipe.xadd(stream, fields, id=seq)  # type: ignore[arg-type]
                if new_head is not None:
                    pipe.set(head, new_head)
                pipe.execute()
                return new
            except redis.WatchError:
                continue


def drop_and_rechain(index: int) -> Edit:
    """Delete the record at ``index`` (0 = oldest) and re-hash every later one, so the
    chain and its head are consistent again: only a trusted checkpoint can tell."""

    def edit(old: list[Record]) -> tuple[list[Record], str | None]:
        kept = old[:index] + old[index + 1 :]
        previous = kept[index - 1][1]["hash"] if index else GENESIS
        new = kept[:index]
        for seq, fields in kept[index:]:
            chained = {name: fields.get(name, "") for name in FIELDS} | {"prev_hash": previous}
            previous = record_hash(chained)
            new.append((seq, {**chained, "hash": previous}))
        return new, previous

    return edit


def corrupt_target(index: int, target: str) -> Edit:
    """Change one record's target and keep its stored hash (which no longer recomputes)."""

    def edit(old: list[Record]) -> tuple[list[Record], str | None]:
        seq, fields = old[index]
        return [*old[:index], (seq, {**fields, "target": target}), *old[index + 1 :]], None

    return edit


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
