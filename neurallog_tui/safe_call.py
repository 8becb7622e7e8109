"""Run a backend call and turn any failure into a readable notification.

Workers call :func:`attempt` so that an error from the server or the client appears as a
toast naming what failed, never as a traceback that tears the screen down. A 401 locks
the console (the session is over; more calls would only pile up the same error), and
every call tells the app whether the server answered, for the header's state line. A
``ServerIntegrityError`` (the server contradicted the signed tenant chain) also raises the
main screen's integrity alarm, which stays until the session ends.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from textual.widget import Widget

from neurallog.errors import (
    ApiError,
    AuthenticationError,
    InvalidMnemonicError,
    NeuralLogError,
    ServerIntegrityError,
    ServiceUnavailableError,
)

T = TypeVar("T")


class Failed:
    """Marker returned by :func:`attempt` when the call raised (already reported)."""

    __slots__ = ()


FAILED = Failed()


def describe_mnemonic_error(exc: InvalidMnemonicError) -> str:
    """The mnemonic error as the screen says it: a bad word by its position only.

    The crypto layer's message already names no word; the suggestion it carries
    (``exc.suggestion``) is part of a secret and is not shown either.
    """
    if exc.position:
        return f"word {exc.position} is not in the BIP-39 word list (check its spelling)"
    return str(exc)


def describe(exc: BaseException) -> str:
    """A one-line human message for ``exc`` that never repeats a secret."""
    if isinstance(exc, InvalidMnemonicError):
        return describe_mnemonic_error(exc)
    if isinstance(exc, ApiError):
        return exc.detail or exc.title or str(exc)
    if isinstance(exc, NeuralLogError):
        return str(exc) or type(exc).__name__
    return f"unexpected {type(exc).__name__}: {exc}"


def _record(node: Widget, ok: bool, exc: BaseException | None = None) -> bool:
    """Tell the app how the call went; True when it was a 401 (the app locks)."""
    app = node.app
    record = getattr(app, "record_call", None)
    if record is not None:
        record(ok, offline=isinstance(exc, ServiceUnavailableError))
    if isinstance(exc, ServerIntegrityError):
        alarm = getattr(app, "integrity_alarm", None)
        if alarm is not None:
            alarm(describe(exc))
    if isinstance(exc, AuthenticationError):
        rejected = getattr(app, "credential_rejected", None)
        if rejected is not None:
            rejected(describe(exc))
            return True
    return False


async def attempt(node: Widget, what: str, call: Awaitable[T]) -> T | Failed:
    """Await ``call``; on failure notify ``what failed: why`` and return :data:`FAILED`."""
    try:
        result = await call
    except Exception as exc:  # NeuralLogError, or a bug or transport error: no traceback
        if not _record(node, False, exc):
            node.notify(describe(exc), title=f"{what} failed", severity="error", timeout=8)
        return FAILED
    _record(node, True)
    return result
