"""Per-tenant key-state gauges for ``GET /metrics``, read from Redis at each scrape.

The server holds no tenant key and cannot verify the signed tenant chain: these gauges
are what Redis says (the active version's ``created_at``, the stored policy, the version
statuses). They drive the rotation alerts of deploy/prometheus/neurallog-alerts.yml; a
client decides with the verified chain (``rotation_due``). These are the only metrics
labelled with tenant ids (whoever may scrape ``/metrics`` sees the tenant list).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from neurallog.storage.tenant_stats import TenantStats
from neurallog.wire.vocab import STATUSES

__all__ = ["render_tenant_state"]

_DAY = 86_400


class _TenantState(Collector):
    """One scrape's gauges, built from stats already read (no I/O here)."""

    def __init__(self, stats: Sequence[TenantStats]) -> None:
        self._stats = stats

    def collect(self) -> Iterable[Metric]:
        age = GaugeMetricFamily(
            "neurallog_kek_active_version_age_seconds",
            "Seconds since the tenant's active KEK version was created (server's clock, "
            "as stored; absent without an active version).",
            labels=("tenant",),
        )
        policy = GaugeMetricFamily(
            "neurallog_kek_rotate_every_seconds",
            "The tenant's rotation policy in seconds as stored (0: no policy).",
            labels=("tenant",),
        )
        versions = GaugeMetricFamily(
            "neurallog_kek_versions",
            "KEK versions of the tenant by status, as stored.",
            labels=("tenant", "status"),
        )
        holding = GaugeMetricFamily(
            "neurallog_kek_old_versions_with_entries",
            "KEK versions of the tenant other than the active one (not destroyed) whose "
            "streams still hold entries, as stored (rewrap, then destroy them).",
            labels=("tenant",),
        )
        old_entries = GaugeMetricFamily(
            "neurallog_kek_old_version_entries",
            "Entries those versions hold, as stored (what a rewrap would move).",
            labels=("tenant",),
        )
        for stats in self._stats:
            holding.add_metric((stats.tenant_id,), stats.old_versions_with_entries)
            old_entries.add_metric((stats.tenant_id,), stats.old_version_entries)
            if stats.active_age_seconds is not None:
                age.add_metric((stats.tenant_id,), stats.active_age_seconds)
            policy.add_metric((stats.tenant_id,), stats.rotate_every_days * _DAY)
            statuses = dict.fromkeys(STATUSES, 0) | stats.versions_by_status
            for status, count in sorted(statuses.items()):
                versions.add_metric((stats.tenant_id, status), count)
        return [age, policy, versions, holding, old_entries]


def render_tenant_state(stats: Sequence[TenantStats]) -> str:
    """The gauges in the text format, to append to the worker metrics."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_TenantState(stats))
    return generate_latest(registry).decode()
