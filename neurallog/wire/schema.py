"""A small explicit validator whose schemas also render as OpenAPI 3 schemas.

Each node checks a decoded JSON value and returns the normalised Python value, or raises
:class:`SchemaViolation` naming the field path (the server answers it as a 422 problem).
Objects reject unknown fields. The request bodies of every route are declared with it in
:mod:`neurallog.wire.bodies`.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any


class SchemaViolation(ValueError):
    """A value that does not match its schema: ``field`` is its path (``blobs[3].user_id``,
    ``body`` for the whole body); the message starts with it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@cache
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


#: Strings that matched each pattern lately: the 500 entries of an append carry one
#: version id, checked once instead of 500 times. Only matches are kept, a few per pattern.
_MATCHED: defaultdict[str, dict[str, None]] = defaultdict(dict)
_MATCHED_SIZE = 8


def _remember(pattern: str, value: str) -> None:
    seen = _MATCHED[pattern]
    if len(seen) >= _MATCHED_SIZE:
        seen.pop(next(iter(seen), ""), None)  # the oldest
    seen[value] = None


def _fail(path: str, message: str) -> SchemaViolation:
    where = path or "body"
    return SchemaViolation(where, f"{where}: {message}")


class Node(ABC):
    """Base of schema nodes: one class checks a value and describes it to OpenAPI."""

    nullable: bool = False

    @abstractmethod
    def check(self, value: Any, path: str) -> Any:
        """Return the checked (possibly converted) value, or raise :class:`SchemaViolation`."""

    @abstractmethod
    def openapi(self) -> dict[str, Any]:
        """The OpenAPI schema object of this node."""

    def check_many(self, values: list[Any]) -> bool:
        """True if every value passes :meth:`check` unchanged (a node may check a whole
        array at once; False means "check each", which names the first that fails)."""
        return False

    def _spec(self, spec: dict[str, Any]) -> dict[str, Any]:
        if self.nullable:
            spec["nullable"] = True
        return spec


@dataclass
class Str(Node):
    pattern: str | None = None
    min_len: int = 0
    max_len: int = 1024
    enum: tuple[str, ...] | None = None
    nullable: bool = False
    description: str = ""

    def check(self, value: Any, path: str) -> Any:
        if value is None and self.nullable:
            return None
        if not isinstance(value, str):
            raise _fail(path, "must be a string")
        if not value.isascii() and not _unicode(value):
            raise _fail(path, "must be valid Unicode (no lone surrogates)")
        if self.enum is not None and value not in self.enum:
            raise _fail(path, f"must be one of {', '.join(self.enum)}")
        if not self.min_len <= len(value) <= self.max_len:
            raise _fail(path, f"length must be {self.min_len}..{self.max_len}")
        pattern = self.pattern
        if pattern is not None and value not in _MATCHED[pattern]:
            if not _compile(pattern).fullmatch(value):
                raise _fail(path, f"must match {pattern}")
            _remember(pattern, value)
        return value

    def check_many(self, values: list[Any]) -> bool:
        if self.nullable or self.enum is not None:
            return False
        low, high = self.min_len, self.max_len
        match = _compile(self.pattern).fullmatch if self.pattern is not None else None
        return all(
            type(v) is str
            and v.isascii()
            and low <= len(v) <= high
            and (match is None or match(v) is not None)
            for v in values
        )

    def openapi(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": "string", "maxLength": self.max_len}
        if self.min_len:
            spec["minLength"] = self.min_len
        if self.pattern:
            spec["pattern"] = f"^{self.pattern}$"  # fullmatch, as check() applies it
        if self.enum:
            spec["enum"] = list(self.enum)
        if self.description:
            spec["description"] = self.description
        return self._spec(spec)


@dataclass
class B64(Node):
    """Standard base64 with padding, decoded size in ``min_bytes..max_bytes``.

    The check is exactly the documented pattern (groups of four, ``=``/``==`` padding only
    at the end): ``b64decode(validate=True)`` alone also takes ``AAAA====``.
    """

    min_bytes: int = 1
    max_bytes: int = 4096
    nullable: bool = False

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise _fail(path, "must be a base64 string")
        if len(value) > (self.max_bytes + 2) // 3 * 4 or not is_base64(value):
            raise _fail(
                path, f"must be standard base64 of {self.min_bytes}..{self.max_bytes} bytes"
            )
        size = len(value) // 4 * 3 - value[-2:].count("=")
        if not self.min_bytes <= size <= self.max_bytes:
            raise _fail(path, f"must decode to {self.min_bytes}..{self.max_bytes} bytes")
        return value

    def check_many(self, values: list[Any]) -> bool:
        longest = (self.max_bytes + 2) // 3 * 4
        low, high = self.min_bytes, self.max_bytes
        return all(
            type(v) is str
            and len(v) <= longest
            and is_base64(v)
            and low <= len(v) // 4 * 3 - v[-2:].count("=") <= high
            for v in values
        )

    def openapi(self) -> dict[str, Any]:
        return self._spec(
            {
                "type": "string",
                "minLength": (self.min_bytes + 2) // 3 * 4,
                "maxLength": (self.max_bytes + 2) // 3 * 4,
                "pattern": f"^{b64_pattern(self.min_bytes, self.max_bytes)}$",
                "description": f"standard base64 (with padding) of {self.min_bytes}.."
                f"{self.max_bytes} opaque bytes",
            }
        )


_B64_CHAR = "[A-Za-z0-9+/]"
_COUNTED = 4096  # largest group count written out in a pattern
_B64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def is_base64(value: str) -> bool:
    """Exactly ``(?:X{4})*(?:X{2}==|X{3}=)?`` with X the base64 alphabet.

    Whole groups of four, then at most two ``=`` at the very end and nothing but the
    alphabet before them: the same language as that pattern, without its per-group loop
    (that regular expression was a fifth of the server's time of an append of 500
    entries). Deleting the alphabet from the ASCII bytes must leave nothing.
    """
    if len(value) % 4 or not value.isascii():
        return False
    body = value[:-2] if value.endswith("==") else value[:-1] if value.endswith("=") else value
    return not body.encode("ascii").translate(None, _B64_ALPHABET)


def b64_pattern(low: int, high: int) -> str:
    """The exact regular expression of base64 text that decodes to ``low..high`` bytes.

    ``3g + r`` bytes are ``g`` groups of four, then ``xx==`` (r = 1) or ``xxx=`` (r = 2).
    A large ``high`` that is a multiple of 3 leaves the upper bound to ``maxLength`` (exact
    then): test generators give up on counted repeats in the hundreds of thousands.
    """
    open_top = high > 3 * _COUNTED and high % 3 == 0
    assert high <= 3 * _COUNTED or open_top, "a large max_bytes must be a multiple of 3"
    branches = []
    for rest, tail in ((0, ""), (1, f"{_B64_CHAR}{{2}}=="), (2, f"{_B64_CHAR}{{3}}=")):
        first, last = max(0, -(-(low - rest) // 3)), (high - rest) // 3
        if first <= last:
            top = "" if open_top else str(last)
            branches.append(f"(?:{_B64_CHAR}{{4}}){{{first},{top}}}{tail}")
    return "(?:" + "|".join(branches) + ")"


@dataclass
class Int(Node):
    minimum: int = 0
    maximum: int = 2**53
    nullable: bool = False

    def check(self, value: Any, path: str) -> Any:
        if value is None and self.nullable:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, "must be an integer")
        if not self.minimum <= value <= self.maximum:
            raise _fail(path, f"must be in {self.minimum}..{self.maximum}")
        return value

    def openapi(self) -> dict[str, Any]:
        return self._spec({"type": "integer", "minimum": self.minimum, "maximum": self.maximum})


@dataclass
class Bool(Node):
    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            raise _fail(path, "must be true or false")
        return value

    def openapi(self) -> dict[str, Any]:
        return {"type": "boolean"}


#: RFC 3339 ``date-time`` (section 5.6): full date, ``T``, full time, ``Z`` or a numeric offset
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]{1,9})?"
    r"(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
TIME_TEXT = (
    "an RFC 3339 date-time with Z or a numeric offset (at most 40 characters, no leap "
    "second), whose UTC instant lies in 0001-01-01T00:00:00Z.."
    "9999-12-31T23:59:59Z"
)


@dataclass
class Time(Node):
    """RFC 3339 with a zone; normalised to epoch seconds as a string (``""`` for null).

    Only RFC 3339 (``fromisoformat`` also reads ISO week dates and the basic format); a
    moment outside what the server can store and render back (years 1..9999 in UTC) is a
    422, never an ``OverflowError``.
    """

    nullable: bool = True

    def check(self, value: Any, path: str) -> Any:
        if value is None and self.nullable:
            return ""
        if not isinstance(value, str) or len(value) > 40:
            raise _fail(path, "must be an RFC 3339 time like 2026-11-29T05:00:00Z")
        found = _RFC3339.fullmatch(value)
        if found is None:
            raise _fail(path, "must be an RFC 3339 time like 2026-11-29T05:00:00Z")
        year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
        sign, off_h, off_m = found.group(8), found.group(9), found.group(10)
        try:
            moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            offset = timedelta(0)
            if sign is not None:
                if int(off_h) > 23 or int(off_m) > 59:
                    raise ValueError("offset out of range")
                offset = timedelta(hours=int(off_h), minutes=int(off_m))
                offset = -offset if sign == "-" else offset
            utc = moment - offset
        except (ValueError, OverflowError):
            raise _fail(path, f"must be {TIME_TEXT}") from None
        return str(int(utc.timestamp()))

    def openapi(self) -> dict[str, Any]:
        return self._spec(
            {"type": "string", "format": "date-time", "maxLength": 40, "description": TIME_TEXT}
        )


#: the integers of a flat map (KDF parameters): unsigned 32-bit, which every KDF needs
FLAT_INT_MAX = 2**32 - 1
_FLAT_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass
class FlatMap(Node):
    """A flat object of at most ``max_items`` string, integer or boolean members.

    Integers are in ``0..FLAT_INT_MAX``: an unbounded one was stored and then broke every
    read of the tenant (the JSON encoder refuses integers over 64 bits). Fractions are
    refused (no KDF takes one, and a float loses digits on the way back).
    """

    max_items: int = 16

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, "must be an object")
        if len(value) > self.max_items:
            raise _fail(path, f"must have at most {self.max_items} members")
        for key, item in value.items():
            if not _FLAT_NAME.fullmatch(key):
                shown = _join(path, key) if _FIELD_NAME.fullmatch(key) else path
                raise _fail(shown, "member names are 1..64 of A-Za-z0-9_.-")
            sub = _join(path, key)
            if isinstance(item, bool):
                continue
            if isinstance(item, int):
                if not 0 <= item <= FLAT_INT_MAX:
                    raise _fail(sub, f"integers must be in 0..{FLAT_INT_MAX}")
            elif isinstance(item, str):
                if len(item) > 256 or not _unicode(item):
                    raise _fail(sub, "strings must be valid Unicode of at most 256 characters")
            else:
                raise _fail(sub, f"must be a string, an integer in 0..{FLAT_INT_MAX} or a bool")
        return value

    def openapi(self) -> dict[str, Any]:
        return {
            "type": "object",
            "maxProperties": self.max_items,
            "description": f"member names: 1..64 of A-Za-z0-9_.- (pattern ^{_FLAT_NAME.pattern}$)",
            "additionalProperties": {
                "oneOf": [
                    {"type": "string", "maxLength": 256},
                    {"type": "integer", "minimum": 0, "maximum": FLAT_INT_MAX},
                    {"type": "boolean"},
                ]
            },
        }


@dataclass
class Arr(Node):
    item: Node
    min_items: int = 0
    max_items: int = 1000
    unique: bool = False

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise _fail(path, "must be an array")
        if not self.min_items <= len(value) <= self.max_items:
            raise _fail(path, f"must have {self.min_items}..{self.max_items} items")
        if self.item.check_many(value):
            out = list(value)
            if self.unique and len(set(out)) != len(out):
                raise _fail(path, "items must be unique")
            return out
        check = self.item.check
        try:
            # No item path unless an item fails: formatting one per item was a tenth of the
            # check of 500 log entries. The check is pure, so the second pass fails the same.
            out = [check(v, "") for v in value]
        except SchemaViolation:
            out = [check(v, f"{path}[{i}]") for i, v in enumerate(value)]
        if self.unique and len({_frozen(v) for v in out}) != len(out):
            raise _fail(path, "items must be unique")
        return out

    def openapi(self) -> dict[str, Any]:
        spec = {
            "type": "array",
            "items": self.item.openapi(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
        }
        if self.unique:
            spec["uniqueItems"] = True
        return spec


def _frozen(value: Any) -> Any:
    """A hashable form of a checked JSON value (for ``uniqueItems``)."""
    if isinstance(value, dict):
        return frozenset((k, _frozen(v)) for k, v in value.items())
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _unicode(text: str) -> bool:
    """True unless ``text`` holds a lone surrogate (JSON's ``\\ud800`` decodes to one)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass
class Opt:
    """An optional member with a default."""

    node: Node
    default: Any = None


@dataclass
class Obj(Node):
    fields: dict[str, Node | Opt] = field(default_factory=dict)
    name: str = ""

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, "must be a JSON object")
        for key in value:
            if key not in self.fields:
                # echo a field name only if it looks like one: never a pasted secret
                shown = key if _FIELD_NAME.fullmatch(key) else "<unknown>"
                raise _fail(_join(path, shown), "unknown field")
        out: dict[str, Any] = {}
        for key, spec in self.fields.items():
            sub = f"{path}.{key}" if path else key  # _join, inlined: once per member
            if type(spec) is Opt:
                out[key] = spec.node.check(value[key], sub) if key in value else _default(spec)
            else:
                item = value.get(key, _MISSING)
                if item is _MISSING:
                    raise _fail(sub, "is required")
                out[key] = spec.check(item, sub)  # type: ignore[union-attr]
        return out

    def check_many(self, values: list[Any]) -> bool:
        """Objects of required members only, checked member by member across the array
        (a chunk of 1,000 blobs: one pass per member instead of one call per object)."""
        if any(type(spec) is Opt for spec in self.fields.values()):
            return False
        names = self.fields.keys()
        if not all(type(v) is dict and v.keys() == names for v in values):
            return False
        return all(
            spec.check_many([v[key] for v in values])  # type: ignore[union-attr]
            for key, spec in self.fields.items()
        )

    def openapi(self) -> dict[str, Any]:
        props = {
            key: (spec.node if isinstance(spec, Opt) else spec).openapi()
            for key, spec in self.fields.items()
        }
        required = [key for key, spec in self.fields.items() if not isinstance(spec, Opt)]
        spec: dict[str, Any] = {
            "type": "object",
            "properties": props,
            "additionalProperties": False,
        }
        if required:
            spec["required"] = required
        if self.name:
            spec["title"] = self.name
        return spec


_MISSING = object()


def _default(spec: Opt) -> Any:
    if isinstance(spec.node, Time):
        return spec.node.check(spec.default, "")
    return spec.default


_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
