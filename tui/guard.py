"""Run a backend call and turn any failure into a readable notification.

Workers call :func:`attempt` so that an error from the server or the client appears as a
toast naming what failed, never as a traceback that tears the screen down.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from textual.widget import Widget

from neurallog.errors import ApiError, NeuralLogError

T = TypeVar("T")


class Failed:
    """Marker returned by :func:`attempt` when the call raised (already reported)."""

    __slots__ = ()


FAILED = Failed()


def describe(exc: BaseException) -> str:
    """A one-line human message for ``exc`` (errors never carry secrets by design)."""
    if isinstance(exc, ApiError):
        return exc.detail or exc.title or str(exc)
    if isinstance(exc, NeuralLogError):
        return str(exc) or type(exc).__name__
    return f"unexpected {type(exc).__name__}: {exc}"


async def attempt(node: Widget, what: str, call: Awaitable[T]) -> T | Failed:
    """Await ``call``; on failure notify ``what failed: why`` and return :data:`FAILED`."""
    try:
        return await call
    except NeuralLogError as exc:
        node.notify(describe(exc), title=f"{what} failed", severity="error", timeout=8)
    except Exception as exc:  # a bug or a transport error: still no traceback on screen
        node.notify(describe(exc), title=f"{what} failed", severity="error", timeout=8)
    return FAILED
