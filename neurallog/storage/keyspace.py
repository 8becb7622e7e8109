"""Every Redis key NeuralLog uses, built in one place.

All keys of a tenant share the hash tag ``{<tenant>}`` so that one tenant's multi-key Lua
scripts run on one Redis Cluster slot. Nothing else in the code base writes a key string.
Lua scripts that must reach keys only known at run time (a user's blob hash, a version's
hash) receive :func:`prefix` in ARGV and call the builders of :func:`lua_table`, which are
generated from the functions below: the layout is written here only, never in a script.
"""

from __future__ import annotations

ROOT = "nl"


def prefix(tenant: str) -> str:
    """``nl:{<tenant>}:`` - the prefix of every key of one tenant."""
    return f"{ROOT}:{{{tenant}}}:"


def tenant(t: str) -> str:
    """Hash: tenant_id, created_at, profile (JSON), bootstrap_hash (until consumed),
    rotate_every_days (the rotation policy, absent or 0 for none)."""
    return prefix(t) + "tenant"


def tenant_pattern() -> str:
    """SCAN pattern of every tenant hash (the metrics scrape finds the tenants with it)."""
    return tenant("*")


def tenant_of(key: str) -> str | None:
    """The tenant id of a tenant hash key found by :func:`tenant_pattern`, else None."""
    head, tail = prefix("\x00").split("\x00")
    suffix = tail + "tenant"
    if key.startswith(head) and key.endswith(suffix) and len(key) > len(head) + len(suffix):
        return key[len(head) : -len(suffix)]
    return None


def users(t: str) -> str:
    """Set of every user id of the tenant (any state)."""
    return prefix(t) + "users"


def users_order(t: str) -> str:
    """Sorted set, every score 0: ``<created_at> <user_id>`` of every user, the order of
    ``GET /api/users`` pages (by lex range, so a page boundary never moves when users are
    enrolled meanwhile; written with :func:`users` by ``lua/new_user.lua``)."""
    return prefix(t) + "users:order"


def user(t: str, user_id: str) -> str:
    """Hash: user_id, role, state, public_key, created_at."""
    return prefix(t) + "user:" + user_id


def user_keys(t: str, user_id: str) -> str:
    """Set of the key ids of one user."""
    return prefix(t) + "user:" + user_id + ":keys"


def user_blobs(t: str, user_id: str) -> str:
    """Hash: version id -> ``<created_at>|<blob b64>`` for one user."""
    return prefix(t) + "user:" + user_id + ":blobs"


def api_key(t: str, key_id: str) -> str:
    """Hash: user_id, token_hash, slot, label, created_at, expires_at (epoch or ""), revoked."""
    return prefix(t) + "key:" + key_id


def versions(t: str) -> str:
    """List of version ids, oldest first (every id ever recorded; never shrinks)."""
    return prefix(t) + "versions"


def active_version(t: str) -> str:
    """String: the id of the active version."""
    return prefix(t) + "active"


def version(t: str, version_id: str) -> str:
    """Hash: id, status, created_at, created_by, reason."""
    return prefix(t) + "version:" + version_id


def version_blobs(t: str, version_id: str) -> str:
    """Set of the user ids that hold a blob for one version (its size is ``blob_count``)."""
    return prefix(t) + "version:" + version_id + ":blobs"


def staged(t: str) -> str:
    """String: the id of the tenant's one staged version (so a crashed client finds it);
    expires with the staging's hashes."""
    return prefix(t) + "staged"


def staging(t: str, version_id: str) -> str:
    """Hash of a staged (pending) version: kind (create|rotate), reason, remove (the users
    to remove, one per line), created_by, expires_at. Expires with :func:`staging_blobs`
    (Redis TTL, refreshed by every chunk); the commit deletes both."""
    return prefix(t) + "staging:" + version_id


def staging_blobs(t: str, version_id: str) -> str:
    """Hash: user id -> blob (base64) of a staged version, moved to the users' blob hashes
    by the commit (``lua/staging_commit.lua``)."""
    return prefix(t) + "staging:" + version_id + ":blobs"


def version_streams(t: str, version_id: str) -> str:
    """Set of the stream ids that took entries of one version (the append adds to it):
    destroying the version counts what is left in them (``lua/destroy_version.lua``)."""
    return prefix(t) + "version:" + version_id + ":streams"


def log_stream(t: str, stream_id: str) -> str:
    """Stream of encrypted entries (fields ``id``, ``v``, ``e``)."""
    return prefix(t) + "log:" + stream_id


def log_ids(t: str, stream_id: str) -> str:
    """Sorted set: entry id -> stream id milliseconds, for idempotent appends."""
    return prefix(t) + "log:" + stream_id + ":ids"


def log_retention(t: str, stream_id: str) -> str:
    """Hash: max_entries, max_age_seconds."""
    return prefix(t) + "log:" + stream_id + ":retention"


def log_catalogue(t: str, version_id: str) -> str:
    """Hash: stream id -> sealed log name (base64) of one version: the encrypted log
    catalogue (neurallog/crypto/catalogue.py); the first record of a stream is kept."""
    return prefix(t) + "catalogue:" + version_id


def log_catalogue_index(t: str, version_id: str) -> str:
    """Sorted set (all scores 0) of the stream ids of :func:`log_catalogue`, for paging
    in stream id order."""
    return prefix(t) + "catalogue:" + version_id + ":index"


def audit(t: str) -> str:
    """Stream of hash-chained audit records."""
    return prefix(t) + "audit"


def audit_head(t: str) -> str:
    """String: the hash of the newest audit record (detects deletion at the end)."""
    return prefix(t) + "audit:head"


def audit_turn(t: str) -> str:
    """String with a short expiry: the token of the append that lost a race and goes next
    (keeps one busy writer from starving another)."""
    return prefix(t) + "audit:turn"


def audit_checkpoint(t: str) -> str:
    """Hash: seq, hash, count, verified_at of the newest record a verification found intact."""
    return prefix(t) + "audit:checkpoint"


def chain(t: str) -> str:
    """List of the tenant chain's signed links (JSON strings as the client sent them),
    seq 0 first; only ever appended to (``lua/chain_link.lua``)."""
    return prefix(t) + "chain"


def auth_fail_addr(t: str, address: str) -> str:
    """Counter of failed authentications from one client address against one tenant."""
    return prefix(t) + "authfail:addr:" + address


def auth_fail_tenant(t: str) -> str:
    """Counter of failed authentications against one tenant from every address."""
    return prefix(t) + "authfail:tenant"


def auth_fail_global_addr(address: str) -> str:
    """Counter of failed authentications from one address naming no known tenant."""
    return f"{ROOT}:authfail:addr:{address}"


# Builders of tenant keys a Lua script needs at run time: name -> function(tenant, id).
_LUA_BUILDERS = {
    "user": user,
    "user_keys": user_keys,
    "user_blobs": user_blobs,
    "api_key": api_key,
    "version": version,
    "version_blobs": version_blobs,
    "version_streams": version_streams,
    "log_stream": log_stream,
    "log_catalogue": log_catalogue,
    "log_catalogue_index": log_catalogue_index,
}
_LUA_FIXED = {"active_version": active_version, "users": users, "versions": versions}
_T = "\x00t"
_ID = "\x00id"


def _lua_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def lua_table() -> str:
    """Lua source of a table ``K`` of key builders, derived from the functions above:
    ``K.user(p, id)`` is ``p .. <the suffix user() appends> ..``, ``p`` being
    :func:`prefix` (every built key keeps the tenant's hash tag). Prepended to every
    script by the loader."""
    lines = ["local K = {}"]
    start = len(prefix(_T))
    for name, build in _LUA_BUILDERS.items():
        before, _, after = build(_T, _ID)[start:].partition(_ID)
        tail = f" .. {_lua_string(after)}" if after else ""
        lines.append(f"function K.{name}(p, id) return p .. {_lua_string(before)} .. id{tail} end")
    for name, fixed in _LUA_FIXED.items():
        lines.append(f"function K.{name}(p) return p .. {_lua_string(fixed(_T)[start:])} end")
    return "\n".join(lines) + "\n"
