"""NeuralLog: zero-knowledge encrypted logging.

The facade keeps imports light: the client classes load on first use, so a plugin that
only needs :data:`hookimpl` does not pull in the HTTP stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neurallog.errors import NeuralLogError, ServerIntegrityError

__version__ = "0.1.0"

__all__ = [
    "AsyncNeuralLogClient",
    "NeuralLogClient",
    "NeuralLogError",
    "RewrapProgress",
    "RewrapReport",
    "ServerIntegrityError",
    "__version__",
    "hookimpl",
]

if TYPE_CHECKING:
    from neurallog.client import (
        AsyncNeuralLogClient,
        NeuralLogClient,
        RewrapProgress,
        RewrapReport,
    )
    from neurallog.hookspecs import hookimpl


def __getattr__(name: str) -> Any:
    if name in {"AsyncNeuralLogClient", "NeuralLogClient", "RewrapProgress", "RewrapReport"}:
        from neurallog import client

        return getattr(client, name)
    if name == "hookimpl":  # pluggy loads with the plugins, not with every import
        from neurallog.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'neurallog' has no attribute {name!r}")
