"""One blueprint per resource; each module has a ``blueprint()`` factory (fresh per app)."""

from __future__ import annotations

import re

from sanic import Blueprint

from neurallog.server.problems import Problem


def check_param(name: str, value: str, pattern: str) -> str:
    """A path or query parameter must match its pattern (docs/api.md), else 422."""
    if not re.fullmatch(pattern, value):
        raise Problem(422, f"{name}: must match {pattern}", field=name)
    return value


_LIMIT = re.compile(r"[0-9]{1,4}")


def query_limit(raw: str | None, default: int = 100) -> int:
    """The ``limit`` query parameter: ASCII digits in 1..1000 (absent or empty: default)."""
    if raw is None or raw == "":
        return default
    # ASCII only: str.isdigit() also accepts "²", which int() then rejects
    if not _LIMIT.fullmatch(raw) or not 1 <= int(raw) <= 1000:
        raise Problem(422, "limit: must be an integer in 1..1000", field="limit")
    return int(raw)


_U64 = 2**64 - 1


def query_seq(name: str, raw: str | None, pattern: str) -> str | None:
    """An exclusive seq cursor (``ms-n``), or None when absent or empty.

    Both halves must fit Redis's unsigned 64-bit stream ids and ``0-0`` has nothing before
    it: Redis would answer either with an error, which must be a 422 and not a 500.
    """
    if raw is None or raw == "":
        return None
    check_param(name, raw, pattern)
    ms, _, n = raw.partition("-")
    if int(ms) > _U64 or int(n) > _U64 or (int(ms) == 0 and int(n) == 0):
        raise Problem(422, f"{name}: must be a seq after 0-0 with 64-bit halves", field=name)
    return raw


def all_blueprints() -> list[Blueprint]:
    from neurallog.server.blueprints import audit, blobs, health, logs, tenants, users, versions

    return [
        health.blueprint(),
        tenants.blueprint(),
        users.blueprint(),
        versions.blueprint(),
        blobs.blueprint(),
        logs.blueprint(),
        audit.blueprint(),
    ]
