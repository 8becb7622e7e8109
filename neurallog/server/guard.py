"""Route guard: authentication, role check, body parsing and audit in one wrapper.

Every API handler is declared with :func:`guarded`; the :class:`Rule` it carries is also
what the authorisation-matrix test reads from the route table. Order of checks: credential
(401/429), role (403, audited), content type (415), JSON (400), schema (422), handler.

A handler that needs more than the principal takes a keyword-only ``call: Call``: the
guard's :class:`Call` is the one place where the handler and the guard share facts about
the request (what authentication read in the same round trip, what the audit record names).
An audited write's record is appended by the write's own script: the handler passes
:meth:`Call.write` to the storage call. A refused or failed write (no write made) is
recorded here after the handler, as are reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sanic import Request
from sanic.response import HTTPResponse

from neurallog.server.auth import authenticate
from neurallog.server.body import check_content_type, loads
from neurallog.server.context import Principal, app_ctx, request_ctx
from neurallog.server.problems import Problem, to_problem
from neurallog.storage import audit
from neurallog.storage.audit import WriteRecord
from neurallog.storage.credentials import Fused
from neurallog.wire.schema import Node, SchemaViolation
from neurallog.wire.vocab import READER_ROLES, ROLES

ADMIN = frozenset({"admin"})
ANY = frozenset(ROLES)
WRITERS = frozenset(READER_ROLES)
READERS_OF_AUDIT = frozenset({"admin", "auditor"})
# Reads of these domains are audited (NEURALLOG_AUDIT_READS); log entries (the data plane)
# and the audit log itself are not: see docs/server.md.
READ_AUDITED = frozenset({"kek", "user", "key", "tenant"})

Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass(frozen=True)
class Rule:
    """Who may call a route and what is recorded.

    ``self_param`` names a path parameter (a user id): a caller whose own user id equals it
    passes whatever its role. ``audit`` records allowed calls too (denials always are).
    ``fused`` asks authentication to read the route's data in the same round trip.
    ``audit_others`` records allowed reads of another user's data (an admin reading a
    member's blobs), while the user's reads of its own data stay unrecorded (hot path).
    ``body_optional``: an empty body stands for ``{}`` (a route that took no body before
    and now takes optional members, so older clients keep working).
    """

    action: str
    roles: frozenset[str] = ANY
    self_param: str | None = None
    body: Node | None = None
    audit: bool = False
    fused: Fused = Fused.NONE
    audit_others: bool = False
    body_optional: bool = False


@dataclass(eq=False, slots=True)
class Call:
    """One guarded request, as the guard hands it to a handler that asks for it.

    ``prefetched``: what authentication read with the credential for a ``fused`` rule
    (the caller's blob hash, the active version's row; None otherwise). ``target``: what
    the audit record names (an object such as ``version:<id>``); the handler sets it as
    soon as it knows it, and the guard records a refusal, a failure or a read with it;
    unset, the record names the path.
    """

    principal: Principal
    path: str
    prefetched: Any = None
    target: str | None = None
    _record: WriteRecord | None = field(default=None, repr=False)

    @property
    def audit_target(self) -> str:
        """The target of this call's audit records."""
        return self.target or self.path

    def write(self, status: int = 200) -> WriteRecord:
        """The audit record of the route's write, for the storage call that makes the write
        (its script appends it): ``status`` is the answer on success. Only for a rule with
        ``audit``."""
        record = self._record
        if record is None:
            raise RuntimeError("Call.write: the route's rule is not audited")
        record.target = self.audit_target
        record.status = status
        return record


def parse_json(request: Request, schema: Node, *, optional: bool = False) -> dict[str, Any]:
    """415 for a non-JSON type or charset, 400 for bad JSON, 422 for a schema violation.
    ``optional``: an empty body is ``{}`` whatever its type."""
    try:
        if optional and not request.body:
            empty: dict[str, Any] = schema.check({}, "")
            return empty
        check_content_type(request.headers.get("content-type", ""))
        checked: dict[str, Any] = schema.check(loads(request.body or b""), "")
    except SchemaViolation as exc:
        raise Problem(422, str(exc), field=exc.field) from None
    return checked


def guarded(rule: Rule) -> Callable[[Handler], Handler]:
    """Wrap ``handler(request, principal, body, *, call, **path)`` with the checks of
    ``rule``; ``call`` is this request's :class:`Call`."""

    read_audited = not rule.audit and rule.action.partition(".")[0] in READ_AUDITED

    def decorate(handler: Handler) -> Handler:
        async def route(request: Request, **params: Any) -> HTTPResponse:
            ctx = app_ctx(request)
            reads = ctx.reads
            reads.in_flight += 1
            try:
                principal, prefetched = await authenticate(request, rule.action, rule.fused)
                request_ctx(request).tenant_id = principal.tenant_id  # for the access log
                call = Call(principal, request.path, prefetched)
                if principal.role not in rule.roles and (
                    rule.self_param is None or params.get(rule.self_param) != principal.user_id
                ):
                    await _record(request, call, rule, "denied", 403)
                    raise Problem(403, f"role {principal.role} may not {rule.action}")
                body = (
                    parse_json(request, rule.body, optional=rule.body_optional)
                    if rule.body is not None
                    else None
                )
                mode = ctx.config.audit_reads
                now = rule.audit or (
                    rule.audit_others
                    and rule.self_param is not None
                    and params.get(rule.self_param) != principal.user_id
                )
                if not now and (not read_audited or mode == "off"):
                    return await handler(request, principal, body, call=call, **params)
                now = now or mode == "each"
                record = None
                if rule.audit:
                    record = call._record = _write_record(request, principal, rule.action)
                try:
                    response = await handler(request, principal, body, call=call, **params)
                except Exception as exc:
                    status = to_problem(exc).status_code
                    if status < 500 and not (record and record.written):
                        await _allowed(request, call, rule, status, now)
                    raise
                if not (record and record.written):
                    await _allowed(request, call, rule, response.status, now)
                return response
            finally:
                reads.in_flight -= 1
                if not reads.in_flight:
                    reads.idle()

        route.__name__ = handler.__name__
        route.__qualname__ = handler.__qualname__
        route.__doc__ = handler.__doc__
        route.rule = rule  # type: ignore[attr-defined]
        return route

    return decorate


def _write_record(request: Request, principal: Principal, action: str) -> WriteRecord:
    reads = app_ctx(request).reads
    tenant = principal.tenant_id
    return WriteRecord(
        actor=principal.user_id,
        role=principal.role,
        action=action,
        target=request.path,
        status=200,
        take=lambda: reads.take(tenant),
        restore=lambda records: reads.restore(tenant, records),
    )


async def _allowed(request: Request, call: Call, rule: Rule, status: int, now: bool) -> None:
    if now:
        await _record(request, call, rule, "allowed", status)
        return
    principal = call.principal
    app_ctx(request).reads.note(
        principal.tenant_id,
        principal.user_id,
        principal.role,
        rule.action,
        call.audit_target,
        status,
    )


async def _record(request: Request, call: Call, rule: Rule, outcome: str, status: int) -> None:
    ctx = app_ctx(request)
    principal = call.principal
    target = call.audit_target
    if outcome == "denied":  # repeated denials are aggregated per minute
        await ctx.denials.record(
            principal.tenant_id,
            actor=principal.user_id,
            role=principal.role,
            action=rule.action,
            target=target,
            status=status,
        )
        return
    await ctx.reads.append_now(
        principal.tenant_id,
        audit.entry(
            actor=principal.user_id,
            role=principal.role,
            action=rule.action,
            target=target,
            outcome=outcome,
            status=status,
        ),
    )


def rule_of(handler: Any) -> Rule | None:
    """The :class:`Rule` of a guarded handler (None for public routes)."""
    found = getattr(handler, "rule", None)
    return found if isinstance(found, Rule) else None
