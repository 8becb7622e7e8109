"""Schema nodes for the packed append body: a body of one of several forms, and an entry
id followed by its envelope in one string.

The append of 500 log entries spent most of its server time on 500 small JSON objects
(parsing, checking three members each, and sending three Redis arguments each); the
packed form carries one string per entry. Both nodes check exactly what they document,
like those of :mod:`neurallog.wire.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neurallog.wire.schema import Node, Obj, Opt, _fail, b64_pattern

#: the characters of an entry id (``wire.ids.ENTRY_ID``): base64url without padding
_ID_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ID_CLASS = "[A-Za-z0-9_-]"
_STANDARD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_PADDING = (b"", b"=", b"==")


def _envelope_size(value: str, id_len: int) -> int | None:
    """Bytes of the base64 after an ``id_len``-character id, or None if ``value`` is not
    exactly ``[A-Za-z0-9_-]{id_len}`` then ``(?:X{4})*(?:X{2}==|X{3}=)?`` (X: the
    standard alphabet).

    One pass over the text (the check of :func:`~neurallog.wire.schema.is_base64` on a
    slice copied it three times): deleting the standard alphabet leaves the id's ``-`` and
    ``_``, then the padding. That rest must be ``=`` or ``==`` found only at the very end.
    """
    tail = len(value) - id_len
    if tail < 0 or tail % 4:
        return None
    try:
        raw = value.encode("ascii")
    except UnicodeEncodeError:
        return None
    head = raw[:id_len]
    if head.translate(None, _ID_CHARS):
        return None
    rest = raw.translate(None, _STANDARD)
    id_rest = head.translate(None, _STANDARD)
    padding = rest[len(id_rest) :]
    if padding not in _PADDING or not raw.endswith(padding) or len(padding) > tail:
        return None
    return tail // 4 * 3 - len(padding)


@dataclass
class IdB64(Node):
    """An id of ``id_len`` base64url characters, then standard base64 (with padding) of
    ``min_bytes..max_bytes``: ``<entry id><envelope>`` with nothing between them."""

    id_len: int = 22
    min_bytes: int = 1
    max_bytes: int = 4096

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise _fail(path, "must be a string")
        n = self.id_len
        size = _envelope_size(value, n)
        if size is None or not self.min_bytes <= size <= self.max_bytes:
            raise _fail(
                path,
                f"must be an entry id ({n} of A-Za-z0-9_-) followed by standard base64 of "
                f"{self.min_bytes}..{self.max_bytes} bytes",
            )
        return value

    def check_many(self, values: list[Any]) -> bool:
        """Every value at once, in a few passes over the joined text instead of several
        per value (the per-value check was most of the server's time of an append).

        The same language as :meth:`check`: each value is at least ``id_len`` ASCII
        characters with a tail of whole groups of four; the ids together hold only id
        characters; deleting the standard alphabet from everything leaves only ``-``,
        ``_`` and ``=``, exactly as many ``-`` and ``_`` as the ids hold (so none is in a
        tail) and exactly as many ``=`` as the values' trailing runs of at most two (so
        every ``=`` ends its value).
        """
        n = self.id_len
        low, high = self.min_bytes, self.max_bytes
        padding = 0
        for value in values:
            if type(value) is not str:
                return False
            tail = len(value) - n
            if tail < 0 or tail % 4:
                return False
            pad = 2 if value.endswith("==") else 1 if value.endswith("=") else 0
            if pad > tail or not low <= tail // 4 * 3 - pad <= high:
                return False
            padding += pad
        joined = "".join(values)
        if not joined.isascii():
            return False
        ids = "".join([value[:n] for value in values]).encode("ascii")
        if ids.translate(None, _ID_CHARS):
            return False
        rest = joined.encode("ascii").translate(None, _STANDARD)
        if rest.translate(None, b"-_="):
            return False
        return rest.count(b"=") == padding and len(rest) - padding == len(
            ids.translate(None, _STANDARD)
        )

    def openapi(self) -> dict[str, Any]:
        return {
            "type": "string",
            "minLength": self.id_len + (self.min_bytes + 2) // 3 * 4,
            "maxLength": self.id_len + (self.max_bytes + 2) // 3 * 4,
            "pattern": f"^{_ID_CLASS}{{{self.id_len}}}"
            f"{b64_pattern(self.min_bytes, self.max_bytes)}$",
            "description": f"an entry id ({self.id_len} base64url characters) followed by "
            f"the standard base64 (with padding) of its envelope ({self.min_bytes}.."
            f"{self.max_bytes} bytes)",
        }


@dataclass
class OneOf(Node):
    """A JSON object of exactly one of ``forms``, told apart by a member each requires.

    ``keys[i]`` is required by ``forms[i]`` and a member of no other form, and every form
    refuses unknown members: so a body with ``keys[i]`` can only be of ``forms[i]``, and
    checking that one form is checking the ``oneOf`` the document states.
    """

    forms: tuple[Obj, ...]
    keys: tuple[str, ...]

    def __post_init__(self) -> None:
        assert len(self.forms) == len(self.keys)
        for i, (form, key) in enumerate(zip(self.forms, self.keys, strict=True)):
            assert not isinstance(form.fields.get(key), Opt | None), f"{key} must be required"
            for j, other in enumerate(self.forms):
                assert i == j or key not in other.fields, f"{key} is in another form"

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, "must be a JSON object")
        given = [i for i, key in enumerate(self.keys) if key in value]
        if len(given) != 1:
            raise _fail(path, f"must have exactly one of the members {', '.join(self.keys)}")
        return self.forms[given[0]].check(value, path)

    def openapi(self) -> dict[str, Any]:
        return {"oneOf": [form.openapi() for form in self.forms]}
