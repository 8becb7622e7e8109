"""Strict JSON request bodies: UTF-8 only, finite numbers, no duplicate member names.

Python's ``json.loads`` is lenient where a validator must not be: it auto-detects UTF-16/32
from bytes, reads ``NaN``/``Infinity``, and lets the last of two equal member names win
(``"role":"member","role":"admin"``), so what was checked may differ from what a client or
another parser meant.
"""

from __future__ import annotations

import json
from typing import Any

from neurallog.server.problems import Problem

MEDIA = "application/json"


def check_content_type(header: str) -> None:
    """415 unless the type is ``application/json`` with no charset or ``charset=utf-8``."""
    media, _, rest = header.partition(";")
    if media.strip().lower() != MEDIA:
        raise Problem(415, "the body must be application/json")
    for param in rest.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise Problem(415, "the body must be application/json in UTF-8 (charset=utf-8)")


def _refuse_constant(name: str) -> Any:
    raise Problem(400, f"the body is not valid JSON: {name} is not a JSON number")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise Problem(400, "the body is not valid JSON: an object repeats a member name")
    return out


def loads(raw: bytes) -> Any:
    """Decode a body as RFC 8259 JSON in UTF-8 without a byte order mark, or 400."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raise Problem(400, "the body must be UTF-8 JSON without a byte order mark")
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError:
        raise Problem(400, "the body is not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except ValueError:
        raise Problem(400, "the body is not valid JSON") from None
    except RecursionError:
        raise Problem(400, "the body nests too deeply") from None
