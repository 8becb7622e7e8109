"""Shared pieces of the parser fuzzing campaign: the hypothesis profile and mutators.

``NEURALLOG_FUZZ_PROFILE`` picks the profile: ``ci`` (default, 200 examples per decoder)
or ``long`` (5,000). Every fuzz test is decorated with :data:`FUZZ` so the profile applies
to these tests only, not to the property tests elsewhere in the suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

_PROFILES = {
    "ci": settings(
        max_examples=200,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    ),
    "long": settings(
        max_examples=5000,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    ),
}
for _name, _profile in _PROFILES.items():
    settings.register_profile(f"neurallog-fuzz-{_name}", _profile)

PROFILE = os.environ.get("NEURALLOG_FUZZ_PROFILE", "ci").strip().lower() or "ci"
if PROFILE not in _PROFILES:
    raise RuntimeError(f"NEURALLOG_FUZZ_PROFILE must be one of {sorted(_PROFILES)}")

#: Decorator applying the selected fuzz profile.
FUZZ = settings.get_profile(f"neurallog-fuzz-{PROFILE}")

F = TypeVar("F", bound=Callable[..., Any])


def only(
    allowed: tuple[type[BaseException], ...], fn: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[bool, Any]:
    """Call ``fn``; ``(True, result)`` or ``(False, error)`` for an allowed error.

    Any other exception propagates, so hypothesis reports and shrinks the input.
    """
    try:
        return True, fn(*args, **kwargs)
    except allowed as exc:
        return False, exc


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` changed by one to three edits: bit flips, truncation, insertion, splicing."""
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "replace", "append", "dup"]))
        if kind == "flip" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            data = data[: draw(st.integers(0, len(data)))]
        elif kind == "insert":
            i = draw(st.integers(0, len(data)))
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "replace" and data:
            i = draw(st.integers(0, len(data) - 1))
            j = draw(st.integers(i, min(len(data), i + 8)))
            data[i:j] = draw(st.binary(min_size=0, max_size=8))
        elif kind == "append":
            data += draw(st.binary(min_size=1, max_size=16))
        elif kind == "dup" and data:
            i = draw(st.integers(0, len(data) - 1))
            data[i:i] = data[i : i + draw(st.integers(1, 16))]
    result = bytes(data)
    if result == base:  # a no-op edit (flip back, replace by itself): force a change
        result = base + b"\x00"
    return result


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
