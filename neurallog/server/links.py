"""Structural checks of the signed tenant chain links that write routes carry.

The server cannot check a link's signature (it holds no tenant key and never imports the
crypto core): clients verify the chain (docs/formats.md "Tenant chain links"). What it can
check, it checks before the write's script runs, so a malformed link or one that says
something else than the request is a 422 naming ``link`` and is never stored: the shape of
the signed JSON, the tenant, the kind the route expects and a body that states exactly
what the request does. Whether the seq is the chain's next one is the script's
compare-and-append (:mod:`neurallog.storage.chain`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from neurallog.server.problems import Problem
from neurallog.storage.chain import ChainAppend
from neurallog.wire.bodies import MAX_LINK_CHARS

#: a link's size cap in characters; a rotation that removes 10,000 users is about 400 KB
SIGNATURE_SIZE: Final = 64
GENESIS_PREV: Final = "0" * 64
FORMAT_VERSION: Final = 1

#: the exact body members of each kind (as neurallog.crypto.chain requires them)
BODY_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "profile": frozenset({"kdf", "kdf_params", "kem", "cipher"}),
    "version.create": frozenset({"version_id"}),
    "version.status": frozenset({"version_id", "status"}),
    "rotation": frozenset({"version_id", "removed_users"}),
    "member.enrol": frozenset({"user_id", "role", "fingerprint"}),
    "member.role": frozenset({"user_id", "role"}),
    "member.disable": frozenset({"user_id"}),
    "member.remove": frozenset({"user_id"}),
    "policy": frozenset({"rotate_every_days"}),
}
#: members a kind may carry beside its exact ones (the version's KEK commitment, 64 hex)
OPTIONAL_BODY_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "version.create": frozenset({"kek_commit"}),
    "rotation": frozenset({"kek_commit"}),
}
PROFILE_FIELDS: Final = ("kdf", "kdf_params", "kem", "cipher")
_LINK_KEYS: Final = frozenset({"v", "tenant", "seq", "prev", "time", "kind", "body"})
_HEX64 = re.compile(r"[0-9a-f]{64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Link:
    """A structurally sound signed link: its text exactly as received and what it says."""

    text: str
    seq: int
    kind: str
    body: dict[str, Any]


def _bad(where: str, message: str) -> Problem:
    return Problem(422, f"{where}: {message}", field=where)


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("repeated member name")
    return out


def _is_uint(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _plain_values(value: object) -> bool:
    """Only strings, non-negative integers, lists and objects (the canonical form has no
    floats, booleans or null, so a client could never verify such a link). A loop, not
    recursion: the nesting depth is the sender's choice."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            continue
        if isinstance(item, bool) or not isinstance(item, int | list | dict):
            return False
        if isinstance(item, int):
            if item < 0:
                return False
        elif isinstance(item, list):
            stack.extend(item)
        else:
            stack.extend(item.values())
    return True


def parse(text: object, tenant_id: str, where: str = "link") -> Link:
    """Check the shape of one signed link (``{"link": {...}, "sig": base64url}``) naming
    ``tenant_id``; any defect is a 422 naming ``where``."""
    if not isinstance(text, str):
        raise _bad(where, "must be a string (the signed link JSON)")
    if len(text) > MAX_LINK_CHARS:
        raise _bad(where, f"must be at most {MAX_LINK_CHARS} characters")
    try:
        data = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise _bad(where, "is not strict JSON") from None
    if not isinstance(data, dict) or set(data) != {"link", "sig"}:
        raise _bad(where, "must be a JSON object with exactly link and sig")
    _check_sig(data["sig"], where)
    link = data["link"]
    if not isinstance(link, dict):
        raise _bad(where, "link must be an object")
    keys = set(link)
    if not keys >= _LINK_KEYS or not keys <= _LINK_KEYS | {"audit"}:
        raise _bad(where, "link has missing or unknown fields")
    if not _plain_values(link):
        raise _bad(where, "only strings, non-negative integers, lists and objects are allowed")
    if link["v"] != FORMAT_VERSION:
        raise _bad(where, f"v must be {FORMAT_VERSION}")
    if link["tenant"] != tenant_id:
        raise _bad(where, "tenant must be the caller's tenant")
    seq, prev, kind, body = link["seq"], link["prev"], link["kind"], link["body"]
    if not _is_uint(seq) or not _is_uint(link["time"]):
        raise _bad(where, "seq and time must be non-negative integers")
    if not isinstance(prev, str) or not _HEX64.fullmatch(prev):
        raise _bad(where, "prev must be 64 lowercase hex characters")
    if kind not in BODY_KEYS:
        raise _bad(where, f"kind must be one of {', '.join(BODY_KEYS)}")
    exact, optional = BODY_KEYS[kind], OPTIONAL_BODY_KEYS.get(kind, frozenset())
    if not isinstance(body, dict) or not exact <= set(body) <= exact | optional:
        also = f" (and optionally {', '.join(sorted(optional))})" if optional else ""
        raise _bad(where, f"a {kind} body has exactly {', '.join(sorted(exact))}{also}")
    commit = body.get("kek_commit")
    if commit is not None and not (isinstance(commit, str) and _HEX64.fullmatch(commit)):
        raise _bad(where, "body.kek_commit must be 64 lowercase hex characters")
    if seq == 0 and (kind != "profile" or prev != GENESIS_PREV):
        raise _bad(where, "seq 0 is the genesis: a profile link whose prev is 64 zeros")
    if "audit" in link:
        _check_audit(link["audit"], where)
    return Link(text, seq, kind, body)


def _check_sig(sig: object, where: str) -> None:
    size = -1
    if isinstance(sig, str) and len(sig) == 86 and _B64URL.fullmatch(sig):
        try:
            raw = base64.urlsafe_b64decode(sig + "==")
        except (binascii.Error, ValueError):
            raw = b""
        canonical = base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == sig
        size = len(raw) if canonical else -1
    if size != SIGNATURE_SIZE:
        raise _bad(where, f"sig must be base64url without padding of {SIGNATURE_SIZE} bytes")


def _check_audit(audit: object, where: str) -> None:
    if (
        not isinstance(audit, dict)
        or set(audit) != {"count", "head"}
        or not _is_uint(audit["count"])
        or not isinstance(audit["head"], str)
        or not _HEX64.fullmatch(audit["head"])
    ):
        raise _bad(where, "audit must be {count: non-negative integer, head: 64 hex}")


def expect(link: Link, kind: str, body: Mapping[str, Any], where: str = "link") -> Link:
    """422 unless ``link`` is of ``kind`` and its body states exactly ``body``."""
    if link.kind != kind:
        raise _bad(where, f"kind must be {kind} for this request")
    for name in sorted(body):
        if _canonical(link.body.get(name)) != _canonical(body[name]):
            raise _bad(where, f"body.{name} does not match the request")
    return link


def _canonical(value: object) -> str | None:
    """Comparable form (``True == 1`` in Python, never in JSON); None for a value nested
    too deeply to encode, which no request states."""
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except RecursionError:
        return None


def fingerprint(public_key_b64: str) -> str:
    """Lowercase hex SHA-256 of a user's public key bytes, as the member.enrol body states."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()


def profile_body(profile: Mapping[str, Any]) -> dict[str, Any]:
    """The members of a tenant profile that its chain's profile link states."""
    return {name: profile.get(name) for name in PROFILE_FIELDS}


def route_link(
    raw: str | None, tenant_id: str, kind: str, body: Mapping[str, Any]
) -> ChainAppend | None:
    """The ``link`` member of a write request as its chain append: None when absent (the
    script refuses then if the tenant's chain has started); a 422 when malformed, of
    another kind or stating something else than the request."""
    if raw is None:
        return None
    link = expect(parse(raw, tenant_id), kind, body)
    if link.seq == 0:  # parse() allows seq 0 for a profile link only
        raise _bad("link", "seq 0 is the genesis profile link")
    return ChainAppend((link.text,), link.seq)


def sequence(raws: list[str], tenant_id: str, where: str = "links") -> list[Link]:
    """Several links that start a chain: seqs 0..n-1 in order, the first a profile link."""
    found = [parse(raw, tenant_id, f"{where}[{i}]") for i, raw in enumerate(raws)]
    for i, link in enumerate(found):
        if link.seq != i:
            raise _bad(f"{where}[{i}]", f"seq must be {i} (links start the chain at 0, in order)")
    return found
