"""One blueprint per resource; each module has a ``blueprint()`` factory (fresh per app)."""

from __future__ import annotations

import re

from sanic import Blueprint, Request

from neurallog.server.problems import Problem


def check_param(name: str, value: str, pattern: str) -> str:
    """A path or query parameter must match its pattern (docs/api.md), else 422."""
    if not re.fullmatch(pattern, value):
        raise Problem(422, f"{name}: must match {pattern}", field=name)
    return value


def query_arg(request: Request, name: str, max_len: int = 128) -> str | None:
    """The one value of query parameter ``name``, or None when absent.

    An empty value (``?outcome=``) or a repeated parameter is a 422, not "absent": the
    OpenAPI document declares each parameter once, with its pattern.
    """
    values = request.get_args(keep_blank_values=True).getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise Problem(422, f"{name}: give this parameter at most once", field=name)
    value: str = values[0]
    if not 1 <= len(value) <= max_len:
        raise Problem(422, f"{name}: must be 1..{max_len} characters", field=name)
    return value


_LIMIT = re.compile(r"[0-9]{1,4}")


def query_limit(raw: str | None, default: int = 100) -> int:
    """The ``limit`` query parameter: ASCII digits in 1..1000 (absent: default)."""
    if raw is None:
        return default
    # ASCII only: str.isdigit() also accepts "²", which int() then rejects
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= 1000:
        raise Problem(422, "limit: must be an integer in 1..1000", field="limit")
    return int(raw)


def query_seq(name: str, raw: str | None, pattern: str) -> str | None:
    """An exclusive seq cursor (``ms-n`` with unsigned 64-bit halves), or None when absent.

    Returned in canonical form (no leading zeros). ``0-0`` is valid and has nothing before
    it: the callers answer an empty page without asking Redis (which refuses it).
    """
    if raw is None:
        return None
    if len(raw) > 41 or not re.fullmatch(pattern, raw):
        raise Problem(422, f"{name}: must be a seq ms-n with halves in 0..{2**64 - 1}", field=name)
    ms, _, n = raw.partition("-")
    return f"{int(ms)}-{int(n)}"


def all_blueprints() -> list[Blueprint]:
    from neurallog.server.blueprints import (
        audit,
        blobs,
        chain,
        health,
        logs,
        staging,
        tenants,
        users,
        versions,
    )

    return [
        health.blueprint(),
        tenants.blueprint(),
        users.blueprint(),
        versions.blueprint(),
        staging.blueprint(),
        blobs.blueprint(),
        logs.blueprint(),
        audit.blueprint(),
        chain.blueprint(),
    ]
