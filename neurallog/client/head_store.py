"""Where a client remembers the last tenant-chain head it verified (rollback and fork defence).

A client that has verified link ``n`` of its tenant's chain refuses any later answer that
is shorter than ``n`` or differs at ``n`` (:func:`neurallog.crypto.chain.verify_chain`'s
``trusted_head``). That only protects across restarts if the head outlives the process, so
by default it is kept in a small JSON file in the user's state directory
(``platformdirs.user_state_dir("neurallog")/chain-heads.json``). Entries are keyed by tenant
id *and* the tenant's signing public key, so two tenants of one name on different servers
never mix. The file holds hashes and sequence numbers only: nothing secret.

``chain_heads=`` on the client picks the store: ``None`` (the default file), a path, the
string ``"memory"`` (this process only), or any :class:`HeadStore`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import Protocol

import platformdirs

__all__ = ["FileHeadStore", "HeadStore", "MemoryHeadStore", "SavedHead", "head_store"]

SavedHead = tuple[int, bytes]
"""(seq, link hash) of the last verified link."""

FILE_NAME = "chain-heads.json"
ENV_PATH = "NEURALLOG_CHAIN_HEADS"
"""Environment override: a file path, or ``memory``."""


class HeadStore(Protocol):
    """Load and save the last verified head of a tenant's chain."""

    def load(self, tenant_id: str, signing_public_key: bytes) -> SavedHead | None: ...

    def save(self, tenant_id: str, signing_public_key: bytes, head: SavedHead) -> None: ...


def _key(tenant_id: str, signing_public_key: bytes) -> str:
    return f"{tenant_id}/{hashlib.sha256(signing_public_key).hexdigest()[:32]}"


class MemoryHeadStore:
    """Heads kept for the life of this object (``chain_heads="memory"``)."""

    def __init__(self) -> None:
        self._heads: dict[str, SavedHead] = {}
        self._lock = threading.Lock()

    def load(self, tenant_id: str, signing_public_key: bytes) -> SavedHead | None:
        with self._lock:
            return self._heads.get(_key(tenant_id, signing_public_key))

    def save(self, tenant_id: str, signing_public_key: bytes, head: SavedHead) -> None:
        key = _key(tenant_id, signing_public_key)
        with self._lock:
            known = self._heads.get(key)
            if known is None or head[0] >= known[0]:
                self._heads[key] = head


class FileHeadStore:
    """Heads in a JSON file, updated under an exclusive ``flock`` and replaced atomically.

    Several processes (workers of one service) share the file: each update re-reads it
    under the lock and never moves a head backwards, so a slower process cannot undo what
    a faster one saved. A file that cannot be read as ours is an error, not a reset: a
    silently emptied store would disable the rollback check.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def load(self, tenant_id: str, signing_public_key: bytes) -> SavedHead | None:
        try:
            heads = self._read(self.path.read_bytes())
        except FileNotFoundError:
            return None
        return heads.get(_key(tenant_id, signing_public_key))

    def save(self, tenant_id: str, signing_public_key: bytes, head: SavedHead) -> None:
        key = _key(tenant_id, signing_public_key)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                try:
                    heads = self._read(self.path.read_bytes())
                except FileNotFoundError:
                    heads = {}
                known = heads.get(key)
                if known is not None and known[0] >= head[0]:
                    return
                heads[key] = head
                self._write(heads)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self, raw: bytes) -> dict[str, SavedHead]:
        try:
            doc = json.loads(raw)
            if doc.get("v") != 1 or not isinstance(doc.get("heads"), dict):
                raise ValueError
            return {
                str(k): (int(v["seq"]), bytes.fromhex(v["hash"])) for k, v in doc["heads"].items()
            }
        except (ValueError, TypeError, KeyError, AttributeError):
            raise ValueError(
                f"the chain head file {self.path} is not a NeuralLog head store: move it away "
                "(the rollback check restarts from trust on first use) or fix it"
            ) from None

    def _write(self, heads: dict[str, SavedHead]) -> None:
        doc = {"v": 1, "heads": {k: {"seq": s, "hash": h.hex()} for k, (s, h) in heads.items()}}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                json.dump(doc, out, sort_keys=True)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()


def default_path() -> Path:
    """``<user state dir>/neurallog/chain-heads.json`` (``$XDG_STATE_HOME`` on Linux)."""
    return Path(platformdirs.user_state_dir("neurallog")) / FILE_NAME


def head_store(choice: HeadStore | str | os.PathLike[str] | None) -> HeadStore:
    """The store for a client's ``chain_heads=`` option (see the module docstring)."""
    if choice is None:
        choice = os.environ.get(ENV_PATH) or None
    if choice is None:
        return FileHeadStore(default_path())
    if isinstance(choice, str) and choice == "memory":
        return MemoryHeadStore()
    if isinstance(choice, str | os.PathLike):
        return FileHeadStore(choice)
    return choice
