"""Audited reads at low cost: a per-worker batcher of read events (group commit).

A chained append per read would cost a round trip and serialise on the tenant's chain on
the hottest routes. Instead each worker collects its allowed reads per tenant and writes
one record per (actor, role, action, status) with the count and the distinct targets
(action ``reads:<action>``, target ``<count>x <target> ...``), every tenant's records in
one compare-and-append script. A flush starts when the worker has no request in flight
(so a quiet server records a read right after answering it), at ``MAX_EVENTS`` pending
events, or ``INTERVAL`` seconds after the first pending one, whichever comes first; one
flush runs at a time. Records that must be immediate (denials, and writes, whose script
appends their record) first take the tenant's pending reads into the same script, so the
chain keeps the worker's order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from neurallog.storage import audit
from neurallog.storage.connection import AnyRedis

logger = logging.getLogger("neurallog.audit")

INTERVAL = 0.25
MAX_EVENTS = 200
MAX_TARGETS = 32

GroupKey = tuple[str, str, str, int]  # actor, role, action, status


class _Group:
    __slots__ = ("count", "targets")

    def __init__(self) -> None:
        self.count = 0
        self.targets: dict[str, None] = {}


class ReadAuditor:
    """Pending read events of one worker, per tenant; ``flush`` writes them out."""

    def __init__(self, redis: Callable[[], AnyRedis]) -> None:
        self._redis = redis
        self._pending: dict[str, dict[GroupKey, _Group]] = {}
        self._events = 0
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: asyncio.Task[None] | None = None
        self.in_flight = 0

    @property
    def pending(self) -> int:
        """Events noted and not yet written."""
        return self._events

    def note(self, tenant_id: str, actor: str, role: str, action: str, target: str,
             status: int) -> None:  # fmt: skip
        """Remember one allowed read (no I/O here)."""
        groups = self._pending.get(tenant_id)
        if groups is None:
            groups = self._pending[tenant_id] = {}
        key = (actor, role, action, status)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group()
        group.count += 1
        if len(group.targets) < MAX_TARGETS:
            group.targets[target] = None
        self._events += 1
        if self._events >= MAX_EVENTS:
            self._start()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(INTERVAL, self._start)

    def idle(self) -> None:
        """Called when the worker's last request in flight ends: flush now if anything waits."""
        if self._events:
            self._start()

    def take(self, tenant_id: str) -> list[dict[str, str]]:
        """Remove and return the tenant's pending reads as audit entries."""
        groups = self._pending.pop(tenant_id, None)
        if not groups:
            return []
        records = []
        for (actor, role, action, status), group in groups.items():
            self._events -= group.count
            shown = " ".join(group.targets)
            more = group.count - len(group.targets)
            if len(group.targets) == MAX_TARGETS and more > 0:
                shown += " ..."
            records.append(
                audit.entry(
                    actor=actor,
                    role=role,
                    action=f"reads:{action}",
                    target=f"{group.count}x {shown}",
                    outcome="allowed",
                    status=status,
                )
            )
        return records

    async def append_now(self, tenant_id: str, *records: dict[str, str]) -> None:
        """Append ``records`` at once, after the tenant's pending reads (one round trip)."""
        pending = self.take(tenant_id)
        try:
            await audit.append_many(self._redis(), tenant_id, [*pending, *records])
        except BaseException:
            self.restore(tenant_id, pending)
            raise

    async def flush(self, tenant_id: str | None = None) -> None:
        """Write the pending reads (of one tenant, or all) now."""
        tenants = list(self._pending) if tenant_id is None else [tenant_id]
        for tenant in tenants:
            records = self.take(tenant)
            if not records:
                continue
            try:
                await audit.append_many(self._redis(), tenant, records)
            except BaseException:
                self.restore(tenant, records)
                raise

    async def close(self) -> None:
        """Stop the timer and write everything pending (server stop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        running = self._flushing
        if running is not None:
            with contextlib.suppress(Exception):
                await running
        await self.flush()

    def restore(self, tenant_id: str, records: list[dict[str, str]]) -> None:
        """Put records back after a failed write, so the next flush retries them."""
        for record in records:
            count, _, shown = record["target"].partition("x ")
            targets = [t for t in shown.split(" ") if t and t != "..."]
            key = (record["actor"], record["role"], record["action"][6:], int(record["status"]))
            group = self._pending.setdefault(tenant_id, {}).setdefault(key, _Group())
            group.count += int(count)
            for target in targets[:MAX_TARGETS]:
                group.targets[target] = None
            self._events += int(count)

    def _start(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._flushing is None and self._events:
            self._flushing = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        failed = False
        try:
            await self.flush()
        except Exception:
            failed = True
            logger.warning("audit flush failed; pending reads kept for the next one", exc_info=True)
        finally:
            self._flushing = None
        if self._events and self._timer is None:
            soon = self.in_flight == 0 or self._events >= MAX_EVENTS
            delay = INTERVAL if failed or not soon else 0.0
            self._timer = asyncio.get_running_loop().call_later(delay, self._start)
