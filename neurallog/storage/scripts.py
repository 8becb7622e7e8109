"""The Lua scripts: one ``.lua`` file each under ``neurallog/storage/lua``, loaded once.

A :class:`Script` names its file and the helper files it uses; its source is the key
builders of :func:`neurallog.storage.keyspace.lua_table` (so no script spells a key), the
vocabulary of :func:`vocab_table` (so no script spells a role, user state or version
status), then the helpers, then its own file. Audited writes include ``audit_chain.lua``,
which appends the write's audit record in the same script as the write (see
:func:`neurallog.storage.audit.chained_write`); writes a tenant chain link describes also
include ``chain_link.lua``, which appends the link in that script, compare-and-append on
the chain's length (see :mod:`neurallog.storage.chain`). Numbers cross into Lua as strings and are
formatted back with ``%d`` (Lua's ``tostring`` would print ``1.7e+12``).

Replies start with a status word: ``ok`` or one of :class:`neurallog.storage.replies.Status`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from neurallog.storage import keyspace
from neurallog.wire import vocab

_AUDIT_CHAIN = "audit_chain"
_CHAIN_LINK = "chain_link"


@cache
def _file(name: str) -> str:
    return (resources.files("neurallog.storage.lua") / f"{name}.lua").read_text("utf-8")


#: Lua table name -> the closed vocabulary it spells (from neurallog.wire.vocab)
_VOCABULARIES: dict[str, tuple[str, ...]] = {
    "ROLE": vocab.ROLES,
    "STATE": vocab.USER_STATES,
    "STATUS": vocab.STATUSES,
}
_WORD = re.compile(r"[a-z][a-z-]*")


@cache
def vocab_table() -> str:
    """Lua source of the tables ``ROLE``, ``STATE``, ``STATUS`` and ``STATUS_CHANGES``
    (status -> the statuses a change may lead to), derived from
    :mod:`neurallog.wire.vocab`: ``STATUS.DECRYPT_ONLY`` is ``'decrypt-only'``. Reading a
    name that is not there raises a script error instead of giving ``nil`` (a misspelt
    ``STATE.ACTIV`` would otherwise compare unequal to everything). Prepended to every
    script by the loader."""
    lines = [
        "local VOCAB_STRICT = {__index = function(_, name)"
        " error('no such vocabulary word: ' .. tostring(name)) end}"
    ]
    for table, words in _VOCABULARIES.items():
        members = []
        for word in words:
            if not _WORD.fullmatch(word):
                raise ValueError(f"{table}: {word!r} is not a plain vocabulary word")
            members.append(f"{word.upper().replace('-', '_')} = '{word}'")
        lines.append(f"local {table} = setmetatable({{{', '.join(members)}}}, VOCAB_STRICT)")
    changes = [
        f"['{status}'] = {{{', '.join(f'{chr(39)}{to}{chr(39)}' for to in targets)}}}"
        for status, targets in vocab.STATUS_CHANGES.items()
    ]
    lines.append(f"local STATUS_CHANGES = setmetatable({{{', '.join(changes)}}}, VOCAB_STRICT)")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Script:
    """One Lua script: ``name`` is its file, ``uses`` the helper files it calls."""

    name: str
    uses: tuple[str, ...] = ()
    audited: bool = False
    chained: bool = False
    source: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = [keyspace.lua_table(), vocab_table()]
        if self.audited:  # first: it rebinds KEYS and ARGV for everything after it
            parts.append(_file(_AUDIT_CHAIN))
        if self.chained:  # then: it takes its KEYS and ARGV from what audit_chain left
            parts.append(_file(_CHAIN_LINK))
        parts.extend(_file(helper) for helper in self.uses)
        parts.append(_file(self.name))
        object.__setattr__(self, "source", "\n".join(parts))


AUTHENTICATE = Script("authenticate", ("version_row",))
COUNT_FAILURE = Script("count_failure")
CREATE_TENANT = Script("create_tenant")
CREATE_USER = Script("create_user", ("new_user",), audited=True, chained=True)
BOOTSTRAP = Script("bootstrap", ("new_user",), audited=True, chained=True)
DISABLE_USER = Script("disable_user", ("active_admins",), audited=True, chained=True)
ADD_KEY = Script("add_key", audited=True)
REVOKE_KEY = Script("revoke_key", audited=True)
READ_USERS = Script("read_users")
PAGE_USERS = Script("page_users")
READ_KEYS = Script("read_keys")
READ_VERSIONS = Script("read_versions", ("version_row",))
READ_VERSION = Script("read_version", ("version_row",))
CREATE_VERSION = Script(
    "create_version", ("active_admins", "new_version"), audited=True, chained=True
)
STAGING_OPEN = Script("staging_open")
STAGING_PUT = Script("staging_put")
STAGING_READ = Script("staging_read")
STAGING_ABORT = Script("staging_abort")
STAGING_COMMIT = Script(
    "staging_commit", ("active_admins", "new_version"), audited=True, chained=True
)
SET_VERSION_STATUS = Script("set_version_status", audited=True, chained=True)
DESTROY_VERSION = Script("destroy_version", audited=True, chained=True)
SET_POLICY = Script("set_policy", audited=True, chained=True)
PUT_BLOB = Script("put_blob", audited=True)
DELETE_BLOB = Script("delete_blob", audited=True)
APPEND_ENTRIES = Script("append_entries", ("retention_trim",))
SET_RETENTION = Script("set_retention", ("retention_trim",), audited=True)
DELETE_STREAM = Script("delete_stream", audited=True)
READ_CATALOGUE = Script("read_catalogue")
REWRAP_ENTRIES = Script("rewrap_entries", audited=True)
COUNT_ENTRIES = Script("count_entries")
AUDIT_APPEND = Script("audit_append")
AUDIT_RELEASE = Script("audit_release")
AUDIT_PROBE = Script("audit_probe")
CHAIN_GENESIS = Script("chain_genesis", audited=True, chained=True)
READ_CHAIN = Script("read_chain")

ALL: tuple[Script, ...] = (
    AUTHENTICATE,
    COUNT_FAILURE,
    CREATE_TENANT,
    CREATE_USER,
    BOOTSTRAP,
    DISABLE_USER,
    ADD_KEY,
    REVOKE_KEY,
    READ_USERS,
    PAGE_USERS,
    READ_KEYS,
    READ_VERSIONS,
    READ_VERSION,
    CREATE_VERSION,
    STAGING_OPEN,
    STAGING_PUT,
    STAGING_READ,
    STAGING_ABORT,
    STAGING_COMMIT,
    SET_VERSION_STATUS,
    DESTROY_VERSION,
    SET_POLICY,
    PUT_BLOB,
    DELETE_BLOB,
    APPEND_ENTRIES,
    SET_RETENTION,
    DELETE_STREAM,
    READ_CATALOGUE,
    REWRAP_ENTRIES,
    COUNT_ENTRIES,
    AUDIT_APPEND,
    AUDIT_RELEASE,
    AUDIT_PROBE,
    CHAIN_GENESIS,
    READ_CHAIN,
)
"""Every script; :func:`neurallog.storage.store.run` registers each once per client."""
