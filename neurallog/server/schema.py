"""A small explicit validator whose schemas also render as OpenAPI 3 schemas.

Each node checks a decoded JSON value and returns the normalised Python value, or raises a
422 :class:`Problem` naming the field path. Objects reject unknown fields.
"""

from __future__ import annotations

import base64
import binascii
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from neurallog.server.problems import Problem


def _fail(path: str, message: str) -> Problem:
    where = path or "body"
    return Problem(422, f"{where}: {message}", field=where)


class Node(ABC):
    """Base of schema nodes: one class checks a value and describes it to OpenAPI."""

    nullable: bool = False

    @abstractmethod
    def check(self, value: Any, path: str) -> Any:
        """Return the checked (possibly converted) value, or raise a 422 ``Problem``."""

    @abstractmethod
    def openapi(self) -> dict[str, Any]:
        """The OpenAPI schema object of this node."""

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
        if self.enum is not None and value not in self.enum:
            raise _fail(path, f"must be one of {', '.join(self.enum)}")
        if not self.min_len <= len(value) <= self.max_len:
            raise _fail(path, f"length must be {self.min_len}..{self.max_len}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            raise _fail(path, f"must match {self.pattern}")
        return value

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
    """Standard base64 with padding, decoded size in ``min_bytes..max_bytes``."""

    min_bytes: int = 1
    max_bytes: int = 4096
    nullable: bool = False

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            raise _fail(path, "must be a base64 string")
        if len(value) > (self.max_bytes + 2) // 3 * 4:
            raise _fail(path, f"must decode to {self.min_bytes}..{self.max_bytes} bytes")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _fail(path, "is not valid standard base64 with padding") from None
        if not self.min_bytes <= len(raw) <= self.max_bytes:
            raise _fail(path, f"must decode to {self.min_bytes}..{self.max_bytes} bytes")
        return value

    def openapi(self) -> dict[str, Any]:
        return {
            "type": "string",
            "format": "byte",
            "description": f"base64 of {self.min_bytes}..{self.max_bytes} opaque bytes",
        }


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


@dataclass
class Time(Node):
    """RFC 3339 with a zone; normalised to epoch seconds as a string (``""`` for null)."""

    nullable: bool = True

    def check(self, value: Any, path: str) -> Any:
        if value is None and self.nullable:
            return ""
        if not isinstance(value, str) or len(value) > 40:
            raise _fail(path, "must be an RFC 3339 time like 2026-11-29T05:00:00Z")
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise _fail(path, "must be an RFC 3339 time like 2026-11-29T05:00:00Z") from None
        if moment.tzinfo is None:
            raise _fail(path, "must carry a time zone (use Z for UTC)")
        return str(int(moment.astimezone(UTC).timestamp()))

    def openapi(self) -> dict[str, Any]:
        return self._spec({"type": "string", "format": "date-time"})


@dataclass
class FlatMap(Node):
    """A flat object of at most ``max_items`` string/number/bool values."""

    max_items: int = 16

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(path, "must be an object")
        if len(value) > self.max_items:
            raise _fail(path, f"must have at most {self.max_items} members")
        for key, item in value.items():
            if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", key):
                raise _fail(f"{path}.{key}", "member names are 1..64 of A-Za-z0-9_.-")
            if not isinstance(item, str | int | float | bool) or (
                isinstance(item, str) and len(item) > 256
            ):
                raise _fail(f"{path}.{key}", "must be a string (<= 256), number or bool")
        return value

    def openapi(self) -> dict[str, Any]:
        return {
            "type": "object",
            "maxProperties": self.max_items,
            "additionalProperties": {
                "oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
            },
        }


@dataclass
class Arr(Node):
    item: Node
    min_items: int = 0
    max_items: int = 1000

    def check(self, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise _fail(path, "must be an array")
        if not self.min_items <= len(value) <= self.max_items:
            raise _fail(path, f"must have {self.min_items}..{self.max_items} items")
        return [self.item.check(v, f"{path}[{i}]") for i, v in enumerate(value)]

    def openapi(self) -> dict[str, Any]:
        return {
            "type": "array",
            "items": self.item.openapi(),
            "minItems": self.min_items,
            "maxItems": self.max_items,
        }


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
            sub = _join(path, key)
            if isinstance(spec, Opt):
                raw = value.get(key, spec.default)
                out[key] = spec.node.check(raw, sub) if key in value else _default(spec)
            else:
                if key not in value:
                    raise _fail(sub, "is required")
                out[key] = spec.check(value[key], sub)
        return out

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


def _default(spec: Opt) -> Any:
    if isinstance(spec.node, Time):
        return spec.node.check(spec.default, "")
    return spec.default


_FIELD_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
