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
