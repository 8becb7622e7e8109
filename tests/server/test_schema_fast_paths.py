"""The whole-array checks (``check_many``) of the request validator agree with ``check``.

``check_many`` is the append's fast path (one pass over a chunk's values); it may answer
False to send the caller to the per-value check (which names the failing value), but
when it answers True every value must pass ``check``, and for the values it handles
itself (ASCII strings, base64) it must answer exactly what ``check`` would.
"""

from __future__ import annotations

import base64
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from neurallog.wire.schema import B64, Obj, SchemaViolation, Str


def _passes(node: Any, value: Any) -> bool:
    try:
        return node.check(value, "v") == value
    except SchemaViolation:
        return False


STRS = [
    Str(),
    Str(pattern=r"[a-z0-9-]{3,8}", min_len=3, max_len=8),
    Str(min_len=2, max_len=5),
    Str(pattern=r"[0-9a-f]{4}", max_len=4),
]
VALUES = st.one_of(
    st.text(alphabet="abcz09-_ F\u00e9", max_size=10),
    st.text(max_size=6),
    st.integers(),
    st.none(),
    st.binary(max_size=4),
)


@settings(max_examples=400, deadline=None)
@given(which=st.integers(0, len(STRS) - 1), values=st.lists(VALUES, max_size=5))
def test_str_check_many_is_each_value_checked(which: int, values: list[Any]) -> None:
    node = STRS[which]
    each = all(_passes(node, v) for v in values)
    if node.check_many(values):
        assert each, values
    elif all(isinstance(v, str) and v.isascii() for v in values):
        assert not each, values  # its own ground: the same answer as check


B64S = [B64(), B64(min_bytes=3, max_bytes=6), B64(min_bytes=32, max_bytes=32)]
B64_VALUES = st.one_of(
    st.binary(max_size=40).map(lambda b: base64.b64encode(b).decode()),
    st.text(alphabet="AQgw+/=0aZ-_\n", max_size=24),
    st.integers(),
    st.none(),
)


@settings(max_examples=400, deadline=None)
@given(which=st.integers(0, len(B64S) - 1), values=st.lists(B64_VALUES, max_size=5))
def test_b64_check_many_is_each_value_checked(which: int, values: list[Any]) -> None:
    node = B64S[which]
    assert node.check_many(values) == all(_passes(node, v) for v in values), values


BLOB = Obj({"user_id": Str(pattern=r"[a-z]{1,4}", min_len=1, max_len=4), "blob": B64()})


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.fixed_dictionaries({"user_id": VALUES, "blob": B64_VALUES}),
            st.fixed_dictionaries({"user_id": VALUES}),
            st.dictionaries(st.sampled_from(["user_id", "blob", "x"]), VALUES, max_size=3),
            VALUES,
        ),
        max_size=4,
    )
)
def test_obj_check_many_accepts_only_what_check_accepts(values: list[Any]) -> None:
    if BLOB.check_many(values):
        assert all(_passes(BLOB, v) for v in values), values
