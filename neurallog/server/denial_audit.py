"""Audit records of refused requests (401, 403), aggregated per minute.

A refusal costs its sender almost nothing, so one record per refusal would let anybody
grow a tenant's chain (and its verification time) at will. Refusals are grouped per
tenant, actor, role, action and status (a 401's actor is ``addr:<client address>``, so
one group per address); the first refusal of a group in a minute is written at once (a
single failed attempt shows in the log straight away, in order), the further ones are
counted and written as one record ``<n>x <target>; <target> ...`` (n = refusals since the
group's previous record, at most ``MAX_TARGETS`` distinct targets listed) when the minute
ends, when the tenant's log is read or verified on this worker, and at server stop. A
flood thus writes O(groups x minutes) records per worker, not O(requests). At most
``MAX_GROUPS`` groups are held per worker; beyond that new groups of a tenant share one
group whose actor is ``*``.

Every field is chosen by the server (callers pick among a bounded set: route templates,
fixed reasons, key ids that exist), nothing a caller sends is stored verbatim.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from neurallog.server.read_audit import ReadAuditor
from neurallog.storage import audit

logger = logging.getLogger("neurallog.audit")

MAX_TARGETS = 8
MAX_GROUPS = 10_000
MAX_TARGET_CHARS = 256
OVERFLOW_ACTOR = "*"

GroupKey = tuple[str, str, str, str, int]  # tenant, actor, role, action, status


class _Group:
    __slots__ = ("count", "minute", "targets")

    def __init__(self, minute: int) -> None:
        self.minute = minute
        self.count = 0  # refusals counted since the group's last record
        self.targets: dict[str, None] = {}


class DenialAuditor:
    """The worker's groups of refusals; ``record`` is the whole per-refusal cost."""

    def __init__(self, reads: ReadAuditor, clock: Callable[[], float] = time.time) -> None:
        self._reads = reads
        self._clock = clock
        self._groups: dict[GroupKey, _Group] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._sweeping: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Refusals counted and not yet written."""
        return sum(group.count for group in self._groups.values())

    async def record(
        self, tenant_id: str, *, actor: str, role: str, action: str, target: str, status: int
    ) -> None:
        """Note one refusal; write a record only for the first of its group this minute."""
        target = target[:MAX_TARGET_CHARS]
        minute = int(self._clock()) // 60
        key: GroupKey = (tenant_id, actor, role, action, status)
        if key not in self._groups and len(self._groups) >= MAX_GROUPS:
            key = (tenant_id, OVERFLOW_ACTOR, "", action, status)
        group = self._groups.get(key)
        if group is not None and group.minute == minute:
            group.count += 1
            if len(group.targets) < MAX_TARGETS:
                group.targets[target] = None
            self._schedule()
            return
        earlier = [self._summary(key, group)] if group is not None and group.count else []
        self._groups[key] = _Group(minute)
        first = audit.entry(
            actor=key[1], role=role, action=action, target=target, outcome="denied", status=status
        )
        try:
            await self._reads.append_now(tenant_id, *earlier, first)
        except BaseException:
            # the next refusal of the group retries at once; the older count is kept
            if group is not None and group.count:
                self._groups[key] = group
            else:
                self._groups.pop(key, None)
            raise
        self._schedule()

    async def flush(self, tenant_id: str | None = None, *, ended_only: bool = False) -> None:
        """Write the counted refusals (of one tenant, or all) now; with ``ended_only``
        only those of minutes that have ended. Groups of ended minutes are forgotten once
        written; on a failed write the counts stay for the next attempt."""
        minute = int(self._clock()) // 60
        by_tenant: dict[str, list[tuple[GroupKey, _Group]]] = {}
        for key, group in list(self._groups.items()):
            ended = group.minute < minute
            if (tenant_id is not None and key[0] != tenant_id) or (ended_only and not ended):
                continue
            if not group.count:
                if ended:
                    del self._groups[key]
                continue
            by_tenant.setdefault(key[0], []).append((key, group))
        for tenant, groups in by_tenant.items():
            counts = [group.count for _, group in groups]
            await self._reads.append_now(tenant, *(self._summary(k, g) for k, g in groups))
            for (key, group), written in zip(groups, counts, strict=True):
                group.count -= written
                group.targets = {}
                if group.minute < minute and not group.count and self._groups.get(key) is group:
                    del self._groups[key]

    async def close(self) -> None:
        """Stop the timer and write everything counted (server stop)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        await self.flush()

    def _summary(self, key: GroupKey, group: _Group) -> dict[str, str]:
        """The group's counted refusals as one record (the caller resets the count)."""
        shown = "; ".join(group.targets)
        if len(group.targets) == MAX_TARGETS:
            shown += " ..."
        return audit.entry(
            actor=key[1],
            role=key[2],
            action=key[3],
            target=f"{group.count}x {shown}",
            outcome="denied",
            status=key[4],
        )

    def _schedule(self) -> None:
        """Sweep just after the current minute ends (one timer per worker)."""
        if self._timer is not None or self._sweeping is not None:
            return
        now = self._clock()
        delay = 60 - now % 60 + 0.05
        self._timer = asyncio.get_running_loop().call_later(delay, self._start_sweep)

    def _start_sweep(self) -> None:
        self._timer = None
        self._sweeping = asyncio.get_running_loop().create_task(self._sweep())

    async def _sweep(self) -> None:
        try:
            await self.flush(ended_only=True)
        except Exception:
            logger.warning("audit: refused requests could not be written; retrying", exc_info=True)
        finally:
            self._sweeping = None
        if self._groups:
            self._schedule()
