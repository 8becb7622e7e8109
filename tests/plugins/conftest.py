"""Every plugin test starts and ends with a fresh plugin manager and no disable list."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from neurallog.plugins import DISABLE_ENV, reset_plugins


@pytest.fixture(autouse=True)
def fresh_plugins(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    reset_plugins()
    yield
    reset_plugins()
