"""The tenant chain as the server keeps it: an append-only Redis list of signed links.

The server never checks a signature (clients do, see docs/formats.md "Tenant chain
links"); it keeps the links in order and appends each one in the same Lua script as the
change it describes (``lua/chain_link.lua``), only when the link's seq is the chain's
length at that moment. :class:`ChainAppend` is what a write passes to its script.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neurallog.storage import keyspace, scripts
from neurallog.storage.audit import GENESIS, WriteRecord, chained_write
from neurallog.storage.connection import AnyRedis
from neurallog.storage.replies import check
from neurallog.storage.store import run, text


@dataclass(frozen=True)
class ChainAppend:
    """Signed links (JSON strings, exactly as received) to append, ``first_seq`` first."""

    links: tuple[str, ...]
    first_seq: int


def chain_keys(tenant_id: str) -> list[str]:
    """The KEYS a chained script takes after its own (before the audit keys)."""
    return [keyspace.chain(tenant_id)]


def chain_args(append: ChainAppend | None) -> list[Any]:
    """The ARGV a chained script takes after its own: the links, the first seq, their
    number (0 without a link: the script then refuses if the chain has started)."""
    if append is None:
        return [0, 0]
    return [*append.links, append.first_seq, len(append.links)]


def chain_subject(append: ChainAppend | None) -> dict[str, str]:
    """What a chain refusal's message names: the seq to fetch links after."""
    return {"chain_after": str(append.first_seq - 1 if append else -1)}


async def genesis(
    redis: AnyRedis, tenant_id: str, append: ChainAppend, audit: WriteRecord | None = None
) -> None:
    """Start the chain of a tenant that has none (``append.first_seq`` 0), with the audit
    record; a chain that has links already is :class:`~neurallog.errors.ChainHeadError`."""
    reply = await chained_write(
        redis,
        tenant_id,
        scripts.CHAIN_GENESIS,
        [keyspace.tenant(tenant_id), *chain_keys(tenant_id)],
        chain_args(append),
        audit,
    )
    check(reply, **chain_subject(append))


async def read(redis: AnyRedis, tenant_id: str, *, after: int, limit: int) -> dict[str, Any]:
    """The links with seq > ``after`` (at most ``limit``), the chain's length and the
    audit log's record count and head, read in one script (one consistent snapshot)."""
    reply = await run(
        redis,
        scripts.READ_CHAIN,
        [keyspace.chain(tenant_id), keyspace.audit(tenant_id), keyspace.audit_head(tenant_id)],
        [after + 1, after + limit],
    )
    links, length, count, head = reply
    return {
        "links": [text(link) for link in links],
        "length": int(length),
        "audit": {"count": int(count), "head": text(head) or GENESIS},
    }
