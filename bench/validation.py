"""Decode and check the hot request bodies: the server's validator against msgspec and
pydantic v2 models stating the same rules (docs/decisions.md, "one wire contract").

Bodies: ``POST /api/logs/<stream>/entries`` with 500 entries (the largest hot body), and
``POST /api/kek/blobs``. Each candidate decodes the raw bytes and checks every member
(patterns, lengths, unknown members refused, base64 decoded size), as the server must.
Prints microseconds per body (best of R runs of N bodies).

    python bench/validation.py [--entries 500] [--number 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import base64
import secrets
import timeit
import uuid
from functools import partial
from typing import Annotated, Any

import msgspec
import orjson
import pydantic

from neurallog.wire import bodies as models
from neurallog.wire.ids import ENTRY_ID, USER_ID, VERSION_ID
from neurallog.wire.schema import is_base64


def _b64_size(value: str) -> int:
    return len(value) // 4 * 3 - value[-2:].count("=")


def _check_b64(value: str, low: int, high: int) -> str:
    if len(value) > (high + 2) // 3 * 4 or not is_base64(value):
        raise ValueError("not base64")
    if not low <= _b64_size(value) <= high:
        raise ValueError("size")
    return value


# --- msgspec ------------------------------------------------------------------------------


class MEntry(msgspec.Struct, forbid_unknown_fields=True):
    id: Annotated[str, msgspec.Meta(pattern=f"^{ENTRY_ID}$", max_length=22)]
    version_id: Annotated[str, msgspec.Meta(pattern=f"^{VERSION_ID}$", max_length=36)]
    envelope: str

    def __post_init__(self) -> None:
        _check_b64(self.envelope, 1, models.ENVELOPE_MAX)


class MAppend(msgspec.Struct, forbid_unknown_fields=True):
    entries: Annotated[list[MEntry], msgspec.Meta(min_length=1, max_length=500)]
    sealed_name: str | None = None

    def __post_init__(self) -> None:
        if self.sealed_name is not None:
            _check_b64(self.sealed_name, 29, models.CATALOGUE_RECORD_MAX)


class MPutBlob(msgspec.Struct, forbid_unknown_fields=True):
    user_id: Annotated[str, msgspec.Meta(pattern=f"^{USER_ID}$")]
    version_id: Annotated[str, msgspec.Meta(pattern=f"^{VERSION_ID}$", max_length=36)]
    blob: str

    def __post_init__(self) -> None:
        _check_b64(self.blob, 32, 4096)


_M_APPEND = msgspec.json.Decoder(MAppend)
_M_BLOB = msgspec.json.Decoder(MPutBlob)

# --- pydantic v2 --------------------------------------------------------------------------

_STRICT = pydantic.ConfigDict(extra="forbid", strict=True)


def _envelope(value: str) -> str:
    return _check_b64(value, 1, models.ENVELOPE_MAX)


class PEntry(pydantic.BaseModel):
    model_config = _STRICT
    id: Annotated[str, pydantic.StringConstraints(pattern=f"^{ENTRY_ID}$", max_length=22)]
    version_id: Annotated[str, pydantic.StringConstraints(pattern=f"^{VERSION_ID}$", max_length=36)]
    envelope: Annotated[str, pydantic.AfterValidator(_envelope)]


class PAppend(pydantic.BaseModel):
    model_config = _STRICT
    entries: Annotated[list[PEntry], pydantic.Field(min_length=1, max_length=500)]
    sealed_name: str | None = None


class PPutBlob(pydantic.BaseModel):
    model_config = _STRICT
    user_id: Annotated[str, pydantic.StringConstraints(pattern=f"^{USER_ID}$")]
    version_id: Annotated[str, pydantic.StringConstraints(pattern=f"^{VERSION_ID}$", max_length=36)]
    blob: Annotated[str, pydantic.AfterValidator(lambda v: _check_b64(v, 32, 4096))]


def _bodies(entries: int) -> dict[str, bytes]:
    version = str(uuid.uuid4())
    append = {
        "entries": [
            {
                "id": base64.urlsafe_b64encode(secrets.token_bytes(16)).decode().rstrip("="),
                "version_id": version,
                "envelope": base64.b64encode(secrets.token_bytes(180)).decode(),
            }
            for _ in range(entries)
        ],
    }
    blob = {
        "user_id": "alice",
        "version_id": version,
        "blob": base64.b64encode(secrets.token_bytes(120)).decode(),
    }
    return {"append": orjson.dumps(append), "blob": orjson.dumps(blob)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    bodies = _bodies(args.entries)
    candidates: dict[str, dict[str, Any]] = {
        "validator (schema.py)": {
            "append": lambda b: models.APPEND.check(orjson.loads(b), ""),
            "blob": lambda b: models.PUT_BLOB.check(orjson.loads(b), ""),
        },
        "msgspec": {"append": _M_APPEND.decode, "blob": _M_BLOB.decode},
        "pydantic v2": {
            "append": PAppend.model_validate_json,
            "blob": PPutBlob.model_validate_json,
        },
    }
    print(f"append: {args.entries} entries, {len(bodies['append'])} bytes; best of {args.repeat}")
    print(f"{'candidate':24} {'append us':>10} {'blob us':>10}")
    for name, funcs in candidates.items():
        row = []
        for body in ("append", "blob"):
            func, raw = funcs[body], bodies[body]
            number = args.number if body == "append" else args.number * 50
            best = min(timeit.repeat(partial(func, raw), number=number, repeat=args.repeat))
            row.append(best / number * 1e6)
        print(f"{name:24} {row[0]:10.1f} {row[1]:10.2f}")


if __name__ == "__main__":
    main()
