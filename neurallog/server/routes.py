"""Declare a guarded API route once: method, path, rule, documentation.

:func:`declare` registers the handler on the blueprint at the path of
:mod:`neurallog.wire.paths`, wraps it in the guard of its :class:`Rule`, documents it
(the path parameters from the path, the request body from the rule) and checks every
path parameter against its pattern before the handler runs, so no handler repeats the
path, the body schema or the id checks. A handler that declares a keyword-only
``call`` parameter gets the guard's :class:`~neurallog.server.guard.Call`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse

from neurallog.server.blueprints import check_param
from neurallog.server.context import Principal
from neurallog.server.docs import PATH_PATTERNS, documented
from neurallog.server.guard import Call, Handler, Rule, guarded
from neurallog.wire import paths


def declare(
    bp: Blueprint, method: str, path: str, rule: Rule, summary: str, **doc: Any
) -> Callable[[Handler], Handler]:
    """Register ``handler(request, principal, body, **path_params)`` (plus ``call`` when
    it takes one) for ``method path``.

    ``doc`` is passed to :func:`documented` (status, response, errors, params, media).
    """
    names = paths.params(path)
    unknown = [name for name in names if name not in PATH_PATTERNS]
    if unknown:
        raise ValueError(f"{path}: no pattern for path parameter(s) {unknown}")

    def decorate(handler: Handler) -> Handler:
        wants_call = "call" in inspect.signature(handler).parameters

        async def checked(
            request: Request, principal: Principal, body: Any, *, call: Call, **params: str
        ) -> HTTPResponse:
            for name in names:
                check_param(name, params[name], PATH_PATTERNS[name])
            if wants_call:
                return await handler(request, principal, body, call=call, **params)
            return await handler(request, principal, body, **params)

        checked.__name__ = handler.__name__
        checked.__qualname__ = handler.__qualname__
        checked.__doc__ = handler.__doc__
        route = documented(
            summary, body=rule.body, body_required=not rule.body_optional, path=names, **doc
        )(guarded(rule)(checked))
        bp.route(paths.route(path), methods=[method], name=handler.__name__)(route)
        return route

    return decorate
