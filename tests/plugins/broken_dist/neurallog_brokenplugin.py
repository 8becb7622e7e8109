"""Test-only NeuralLog plugin whose KDF registration hook raises."""

from __future__ import annotations

import neurallog
from neurallog.hookspecs import RegisterKdf


@neurallog.hookimpl
def neurallog_register_kdfs(register: RegisterKdf) -> None:
    raise RuntimeError("this plugin is broken on purpose")
