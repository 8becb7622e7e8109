"""The Lua scripts' side of the storage contract: files as package data, no key layout of
their own, and only status words the Python side maps."""

from __future__ import annotations

import re
from importlib import resources

from neurallog.storage import keyspace, scripts
from neurallog.storage.replies import ERRORS, Status

LUA = resources.files("neurallog.storage.lua")


def _lua_files() -> dict[str, str]:
    return {
        entry.name: entry.read_text("utf-8")
        for entry in LUA.iterdir()
        if entry.name.endswith(".lua")
    }


def test_every_script_is_a_lua_file_and_every_file_is_used() -> None:
    files = _lua_files()
    used = {f"{s.name}.lua" for s in scripts.ALL}
    used |= {f"{h}.lua" for s in scripts.ALL for h in s.uses}
    used |= {"audit_chain.lua", "chain_link.lua"}
    assert used == set(files)
    for script in scripts.ALL:
        assert script.source.startswith(keyspace.lua_table())


def test_no_lua_file_spells_a_key_fragment() -> None:
    """The key layout lives in keyspace.py only: no quoted string with a ':' (every key
    fragment has one) and no known suffix in any script."""
    fragments = ("user:", ":blobs", ":keys", "key:", "version:", "log:", "audit:", "nl:")
    for name, source in _lua_files().items():
        code = "\n".join(line.split("--", 1)[0] for line in source.splitlines())
        quoted = re.findall(r"'([^']*)'|\"([^\"]*)\"", code)
        for single, double in quoted:
            text = single or double
            assert ":" not in text, f"{name}: key fragment {text!r}"
        for fragment in fragments:
            assert fragment not in code, f"{name}: {fragment!r}"


def test_every_status_word_is_a_status_and_every_refusal_is_mapped() -> None:
    words: set[str] = set()
    for source in _lua_files().values():
        words |= set(re.findall(r"return (?:nil, )?\{'([a-z-]+)'", source))
        words |= set(re.findall(r"local out = \{'([a-z-]+)'", source))
        words |= set(re.findall(r"local missing = \{'([a-z-]+)'", source))
    assert words <= {s.value for s in Status}, words - {s.value for s in Status}
    judged_elsewhere = {Status.OK, Status.NO_KEY, Status.BAD_TOKEN}
    retried = {Status.AUDIT_HEAD, Status.AUDIT_OUTCOME}
    assert set(Status) - judged_elsewhere - retried == set(ERRORS)
    assert {s.value for s in Status} - {"ok"} <= words
