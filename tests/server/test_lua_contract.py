"""The Lua scripts' side of the storage contract: files as package data, no key layout and
no vocabulary of their own, and only status words the Python side maps."""

from __future__ import annotations

import re
from importlib import resources

import pytest
import redis

from neurallog.storage import keyspace, scripts
from neurallog.storage.connection import connect
from neurallog.storage.replies import ERRORS, Status
from neurallog.storage.store import text
from neurallog.wire import vocab

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
        assert script.source.startswith(keyspace.lua_table() + "\n" + scripts.vocab_table())


def _code(source: str) -> str:
    """A script without its comments."""
    return "\n".join(line.split("--", 1)[0] for line in source.splitlines())


JSON_MEMBER = re.compile(r'[{,]"[a-z_]+":\[?')
"""``{"user_id":``, ``,"versions":[``: the start of a JSON object member, not a key."""


def test_no_lua_file_spells_a_key_fragment() -> None:
    """The key layout lives in keyspace.py only: no quoted string with a ':' (every key
    fragment has one) and no known suffix in any script."""
    fragments = ("user:", ":blobs", ":keys", "key:", "version:", "log:", "audit:", "nl:")
    for name, source in _lua_files().items():
        code = _code(source)
        quoted = re.findall(r"'([^']*)'|\"([^\"]*)\"", code)
        for single, double in quoted:
            text = single or double
            if JSON_MEMBER.fullmatch(text):
                continue  # a member name of JSON a script encodes (page_users.lua)
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
    retried = {Status.AUDIT_HEAD, Status.AUDIT_OUTCOME, Status.AUDIT_TURN}
    assert set(Status) - judged_elsewhere - retried == set(ERRORS)
    assert {s.value for s in Status} - {"ok"} <= words


#: every word of the wire's closed vocabularies (roles, user states, version statuses)
VOCABULARY = set(vocab.ROLES) | set(vocab.USER_STATES) | set(vocab.STATUSES)
#: where a reply's status word stands: ``return {'deprecated'}`` is the storage reply
#: ``Status.DEPRECATED`` (mapped by replies.py), not the version status ``deprecated``
REPLY_HEAD = re.compile(r"return (?:nil, )?\{$")


def vocabulary_literals(source: str) -> list[str]:
    """The quoted vocabulary words of a Lua source, comments and reply status words aside."""
    code = _code(source)
    found = []
    for match in re.finditer(r"'([^'\n]*)'|\"([^\"\n]*)\"", code):
        word = match.group(1) if match.group(1) is not None else match.group(2)
        if word not in VOCABULARY:
            continue
        if word in {s.value for s in Status} and REPLY_HEAD.search(code[: match.start()]):
            continue
        found.append(word)
    return found


def test_no_lua_file_spells_a_vocabulary_word() -> None:
    """Roles, user states and version statuses live in neurallog/wire/vocab.py only: the
    scripts name them through the generated ROLE, STATE and STATUS tables."""
    for name, source in _lua_files().items():
        assert vocabulary_literals(source) == [], name


def test_the_vocabulary_check_sees_a_spelt_word() -> None:
    spelt = "if st == 'active' then return {'deprecated'} end\nlocal r = {\"auditor\"}"
    assert vocabulary_literals(spelt) == ["active", "auditor"]
    assert vocabulary_literals("-- 'active'\nreturn {'deprecated'}") == []


async def test_the_vocabulary_table_holds_every_word_and_refuses_others(redis_url: str) -> None:
    client = connect(redis_url)
    try:
        names = {"ROLE": vocab.ROLES, "STATE": vocab.USER_STATES, "STATUS": vocab.STATUSES}
        for table, words in names.items():
            fields = ", ".join(f"{table}.{w.upper().replace('-', '_')}" for w in words)
            got = await client.eval(scripts.vocab_table() + f"return {{{fields}}}", 0)
            assert tuple(text(w) for w in got) == words
        with pytest.raises(redis.ResponseError, match="no such vocabulary word: ACTIV"):
            await client.eval(scripts.vocab_table() + "return STATE.ACTIV", 0)
        for status, targets in vocab.STATUS_CHANGES.items():
            got = await client.eval(scripts.vocab_table() + f"return STATUS_CHANGES['{status}']", 0)
            assert tuple(text(t) for t in got or []) == targets, status
    finally:
        await client.aclose()
