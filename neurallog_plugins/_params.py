"""Parameter checks shared by the built-in KDFs.

Parameters come from a tenant profile the server stores, so they are untrusted input:
every value is type-checked and bounded above as well as below, so a tampered profile
cannot make a client spin or allocate without limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def complete(kdf: str, params: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with ``params``; an unknown parameter name is a ValueError."""
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        allowed = ", ".join(sorted(defaults)) or "none"
        raise ValueError(f"{kdf}: unknown parameter(s) {', '.join(unknown)}; allowed: {allowed}")
    return {**defaults, **params}


def bounded_int(kdf: str, params: Mapping[str, Any], key: str, low: int, high: int) -> int:
    """``params[key]`` as an int in ``low..high`` (bool is not an int here)."""
    value = params[key]
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{kdf}: parameter {key} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{kdf}: parameter {key} must be between {low} and {high}, got {value}")
    return value


def below(kdf: str, params: Mapping[str, Any], key: str, floor: int, why: str) -> list[str]:
    """``[reason]`` when ``params[key] < floor`` (the reason names the floor), else ``[]``."""
    value = params[key]
    if value >= floor:
        return []
    return [f"{kdf}: parameter {key}={value} is below the floor {key}>={floor} ({why})"]
