"""The local custody file: one admin's Master KEK, wrapped by a custody plugin.

The file lives in the user's data directory (``NEURALLOG_CUSTODY_DIR``, default
``<user data dir>/neurallog/custody``), never on the server, one per tenant and user, mode
0600. It holds the plugin name, the wrapped blob and the public parameters needed to
rebuild the hierarchy; the unwrapped key is checked against the tenant's key-check value
and signing key before it is used, so a swapped or stale file fails closed.
"""

from __future__ import annotations

import base64
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from neurallog.errors import CustodyError

CUSTODY_DIR_ENV = "NEURALLOG_CUSTODY_DIR"
FORMAT = "neurallog-custody/1"
_SAFE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def custody_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where custody files live: ``override``, else the env setting, else the data dir."""
    if override is not None:
        return Path(override)
    env = os.environ.get(CUSTODY_DIR_ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("neurallog")) / "custody"


def _component(value: str, what: str) -> str:
    if not _SAFE.fullmatch(value) or value in (".", ".."):
        raise CustodyError(f"the {what} cannot name a custody file")
    return value


def custody_path(tenant_id: str, user_id: str, directory: Path) -> Path:
    return directory / _component(tenant_id, "tenant id") / f"{_component(user_id, 'user id')}.json"


@dataclass(frozen=True, repr=False)
class CustodyRecord:
    """What the custody file holds (the blob is wrapped: useless without the plugin's key)."""

    tenant_id: str
    user_id: str
    plugin: str
    blob: bytes

    def __repr__(self) -> str:
        return f"CustodyRecord(tenant_id={self.tenant_id!r}, plugin={self.plugin!r})"

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "tenant_id": self.tenant_id,
                "user_id": self.user_id,
                "plugin": self.plugin,
                "blob": base64.b64encode(self.blob).decode("ascii"),
            },
            indent=2,
        )


def write_record(record: CustodyRecord, directory: Path) -> Path:
    """Write atomically with mode 0600 (directories 0700); return the path."""
    path = custody_path(record.tenant_id, record.user_id, directory)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(record.to_json())
    os.replace(tmp, path)
    return path


def read_record(tenant_id: str, user_id: str, directory: Path) -> CustodyRecord:
    """The stored record; ``CustodyError`` when there is none or it is malformed."""
    path = custody_path(tenant_id, user_id, directory)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CustodyError(
            f"no custody record for user {user_id!r} of tenant {tenant_id!r} on this machine: "
            "unlock with the words or shares, then enable_custody()"
        ) from None
    except (OSError, ValueError) as exc:
        raise CustodyError(f"the custody record cannot be read ({type(exc).__name__})") from None
    try:
        if doc["format"] != FORMAT or doc["tenant_id"] != tenant_id or doc["user_id"] != user_id:
            raise ValueError
        return CustodyRecord(
            tenant_id, user_id, str(doc["plugin"]), base64.b64decode(doc["blob"], validate=True)
        )
    except (KeyError, TypeError, ValueError):
        raise CustodyError("the custody record is malformed or for another user") from None


def delete_record(tenant_id: str, user_id: str, directory: Path) -> bool:
    """Remove the record; ``False`` when there was none."""
    try:
        custody_path(tenant_id, user_id, directory).unlink()
    except FileNotFoundError:
        return False
    return True
