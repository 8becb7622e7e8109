"""``neurallog audit verify --url URL``: the audit log verified by this machine, not the server.

Walks the tenant's audit log with the SDK (an admin or auditor API key, read without echo)
and recomputes its hash chain here (:meth:`AsyncNeuralLogClient.verify_audit`). The
server's own ``/api/audit/verify`` is never asked: a server that rewrites its log would
vouch for it. Without a trusted checkpoint a consistent rewrite of the whole chain passes;
the verdict says which checkpoint was checked.
"""

from __future__ import annotations

import asyncio
import json
import sys

from neurallog.cli.recovery import Ask, ask_secret
from neurallog.client.models import AuditVerdict

__all__ = ["run_audit_verify_client"]


def checkpoint_words(verdict: AuditVerdict) -> str:
    point = verdict.checkpoint
    if point is None:
        return "no trusted checkpoint (a rewrite of the whole chain would pass)"
    return f"checkpoint {point.count} records, head {point.head}"


def _json(tenant: str | None, verdict: AuditVerdict) -> str:
    point = verdict.checkpoint
    return json.dumps(
        {
            "tenant": tenant,
            "intact": verdict.intact,
            "records": verdict.records,
            "first_broken": verdict.first_broken,
            "reason": verdict.reason,
            "verified_by": "client",
            "checkpoint": None if point is None else {"count": point.count, "head": point.head},
        }
    )


def _progress(fetched: int) -> None:
    print(f"\rfetched {fetched} audit records", end="", file=sys.stderr, flush=True)


async def _verify(url: str, tenant: str | None, as_json: bool, ask: Ask) -> int:
    from neurallog.client import AsyncNeuralLogClient

    async with AsyncNeuralLogClient(url) as client:
        await client.authenticate_with_api_key(ask("admin or auditor API key (hidden): ").strip())
        if tenant is not None and client.tenant_id != tenant:
            print(
                f"neurallog: error: the API key is of tenant {client.tenant_id!r}, not {tenant!r}",
                file=sys.stderr,
            )
            return 1
        tenant = client.tenant_id
        show = sys.stderr.isatty() and not as_json
        verdict = await client.verify_audit(progress=_progress if show else None)
        if show:
            print(file=sys.stderr)
    if as_json:
        print(_json(tenant, verdict))
    elif verdict.intact:
        print(
            f"audit chain of {tenant!r} intact: {verdict.records} records, verified by this "
            f"client; {checkpoint_words(verdict)}"
        )
    else:
        where = f"at record {verdict.first_broken} " if verdict.first_broken else ""
        print(
            f"audit chain of {tenant!r} BROKEN {where}({verdict.records} records checked): "
            f"{verdict.reason}; verified by this client; {checkpoint_words(verdict)}"
        )
    return 0 if verdict.intact else 1


def run_audit_verify_client(
    url: str, tenant: str | None, *, as_json: bool = False, ask: Ask = ask_secret
) -> int:
    """Exit 0 when this client finds the chain intact, 1 when not (or the key's tenant
    is not ``tenant``)."""
    return asyncio.run(_verify(url, tenant, as_json, ask))
