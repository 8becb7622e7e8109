"""No (subkey, nonce) pair is ever used twice: across a fork, and across racing threads.

A sealer numbers its nonces within a batch (one random salt, one subkey). A forked child
that went on with its parent's batch, or a thread that took a nonce from one batch and
the key of another, would encrypt two entries under one key and nonce. These tests fork
for real (``os.fork()``, and a bare ``fork()`` from the C library that runs none of
Python's at-fork hooks) and race real threads across batch rotations.
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import cast

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import neurallog
from neurallog import _fork
from neurallog.crypto.envelope import EnvelopeOpener, EnvelopeSealer, parse_envelope
from neurallog.crypto.working import new_entry_id, stream_id
from neurallog.errors import DecryptionError
from neurallog.hookspecs import RegisterCipher
from neurallog.plugins import get_cipher, register_plugin

T, V = "acme", "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b"
KEY = os.urandom(32)
S = stream_id(os.urandom(32), "app")
CIPHERS = ["aes-256-gcm", "chacha20-poly1305", "aes-256-gcm-siv"]
#: A cipher known only through its plugin (no pyca fast path, no ``encrypt_into``).
PLUGIN_CIPHER = "fork-test-aes-256-gcm"

Sealed = list[tuple[str, bytes]]  # (entry id, envelope)


class _PluginGcm:
    name = PLUGIN_CIPHER
    key_size = 32
    nonce_size = 12
    tag_size = 16

    def encrypt(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    def decrypt(self, key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).decrypt(nonce, ciphertext, aad)


class _PluginObject:
    @neurallog.hookimpl
    def neurallog_register_ciphers(self, register: RegisterCipher) -> None:
        register(_PluginGcm())


@pytest.fixture
def plugin_cipher() -> str:
    try:
        get_cipher(PLUGIN_CIPHER)
    except Exception:
        register_plugin(_PluginObject(), name="fork-test-cipher")
    return PLUGIN_CIPHER


def seal_some(sealer: EnvelopeSealer, n: int) -> Sealed:
    """``n`` entries through each of ``seal``, ``seal_buffer`` and ``seal_many``."""
    out: Sealed = []
    for _ in range(n):
        eid = new_entry_id()
        out.append((eid, sealer.seal(S, eid, b"single " + eid.encode())))
        eid = new_entry_id()
        out.append((eid, bytes(sealer.seal_buffer(S, eid, b"buffer " + eid.encode()))))
        items = [(new_entry_id(), b"many") for _ in range(2)]
        out += zip([i for i, _ in items], sealer.seal_many(S, items), strict=True)
    return out


def in_child(fork: Callable[[], int], work: Callable[[], object]) -> tuple[int, object]:
    """Fork with ``fork``; the child runs ``work`` and pickles its result back through a
    pipe. Returns (child pid, result); the parent's own work runs after this returns."""
    read, write = os.pipe()
    pid = fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(read)
            with os.fdopen(write, "wb") as pipe:
                pickle.dump(work(), pipe)
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child failed"
    return pid, pickle.loads(data)


def bare_fork() -> int:
    """``fork()`` straight from the C library: Python's at-fork hooks do not run (as when
    an embedding server or a C extension forks). ``PyDLL`` keeps the GIL held across it."""
    return int(ctypes.PyDLL(None).fork())


def assert_unique_and_open(sealed: Sealed, cipher: str) -> None:
    """Every envelope opens, and no (cipher, version, salt, nonce) repeats."""
    pairs = [parse_envelope(env) for _, env in sealed]
    assert {h.cipher for h in pairs} == {cipher}
    keys = [(h.cipher, h.version_id, h.salt, h.nonce) for h in pairs]
    assert len(set(keys)) == len(keys), "a (subkey, nonce) pair was used twice"
    opener = EnvelopeOpener(T, {V: KEY})
    for eid, env in sealed:
        opener.open(env, stream_id=S, entry_id=eid, version_id=V)


# --- fork ----------------------------------------------------------------------------------


@pytest.mark.parametrize("cipher", CIPHERS)
def test_parent_and_child_never_share_a_nonce_after_os_fork(cipher: str) -> None:
    sealer = EnvelopeSealer(T, V, KEY, cipher=cipher)
    before = seal_some(sealer, 2)  # the batch is under way when the process forks
    _, child = in_child(os.fork, lambda: seal_some(sealer, 5))
    parent = seal_some(sealer, 5)
    assert isinstance(child, list) and child
    assert_unique_and_open(before + parent + child, cipher)
    # The parent kept its batch; the child started its own.
    assert parse_envelope(parent[0][1]).salt == parse_envelope(before[0][1]).salt
    assert parse_envelope(child[0][1]).salt != parse_envelope(before[0][1]).salt


def test_at_fork_hook_starts_a_fresh_batch_in_the_child() -> None:
    sealer = EnvelopeSealer(T, V, KEY)
    seal_some(sealer, 1)
    _, child_salt = in_child(os.fork, lambda: sealer.salt)  # before any seal in the child
    assert child_salt != sealer.salt


def test_pid_check_alone_forces_a_fresh_batch_when_hooks_are_skipped() -> None:
    """A bare C ``fork()`` skips the at-fork hook: the child still holds the parent's salt
    and counter, and only the process-id check stands between it and a reused nonce."""
    sealer = EnvelopeSealer(T, V, KEY)
    before = seal_some(sealer, 2)

    def child_work() -> tuple[bytes, Sealed]:
        return sealer.salt, seal_some(sealer, 5)

    _, result = in_child(bare_fork, child_work)
    salt_before_sealing, child = cast(tuple[bytes, Sealed], result)
    parent = seal_some(sealer, 5)
    assert salt_before_sealing == parse_envelope(before[0][1]).salt  # no hook ran
    assert_unique_and_open(before + parent + child, "aes-256-gcm")


def test_fork_pid_is_exact_across_forks() -> None:
    """The cached pid follows both kinds of fork, nested too."""

    def report() -> tuple[int, int, object]:
        nested = in_child(bare_fork, lambda: (os.getpid(), _fork.pid()))
        return os.getpid(), _fork.pid(), nested

    for fork in (os.fork, bare_fork):
        pid, result = in_child(fork, report)
        real, cached, (nested_pid, nested) = cast(tuple[int, int, tuple[int, object]], result)
        assert pid == real == cached
        assert nested == (nested_pid, nested_pid) and nested_pid != pid
    assert _fork.pid() == os.getpid()


def test_fork_registry_holds_sealers_weakly() -> None:
    sealer = EnvelopeSealer(T, V, KEY)
    ref = weakref.ref(sealer)
    del sealer
    gc.collect()
    assert ref() is None


# --- threads -------------------------------------------------------------------------------


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads as often as the interpreter allows, so races are hit, not hoped for."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def race(sealer: EnvelopeSealer, threads: int, rounds: int) -> Sealed:
    sealed: Sealed = []
    lock = threading.Lock()
    start = threading.Barrier(threads)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            start.wait()
            local = seal_some(sealer, rounds)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
            return
        with lock:
            sealed.extend(local)

    pool = [threading.Thread(target=work) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert not errors
    return sealed


@pytest.mark.usefixtures("fast_switching")
@pytest.mark.parametrize("cipher", [*CIPHERS, PLUGIN_CIPHER])
def test_threads_across_batch_rotations_never_reuse_a_nonce(
    cipher: str, request: pytest.FixtureRequest
) -> None:
    if cipher == PLUGIN_CIPHER:
        request.getfixturevalue("plugin_cipher")
    sealer = EnvelopeSealer(T, V, KEY, cipher=cipher, max_entries=2)
    sealed = race(sealer, threads=16, rounds=150)
    assert len(sealed) == 16 * 150 * 4
    assert_unique_and_open(sealed, cipher)


@pytest.mark.usefixtures("fast_switching")
def test_seal_buffer_takes_nonce_and_key_from_one_batch(plugin_cipher: str) -> None:
    """Every entry is sealed under the subkey its header names.

    Two races once broke that when batches rotated under threads: ``seal_buffer`` without
    ``encrypt_into`` (a plugin cipher) took the cipher of whatever batch was current after
    its nonce was handed out, and a batch change read the shared ``salt`` attribute twice
    (once for the subkey, once for the header) while another thread replaced it."""
    sealer = EnvelopeSealer(T, V, KEY, cipher=plugin_cipher, max_entries=1)
    sealed: Sealed = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def work() -> None:
        start.wait()
        local = []
        for _ in range(400):
            eid = new_entry_id()
            local.append((eid, bytes(sealer.seal_buffer(S, eid, b"x"))))
        with lock:
            sealed.extend(local)

    pool = [threading.Thread(target=work) for _ in range(16)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    opener = EnvelopeOpener(T, {V: KEY})
    failed = 0
    for eid, env in sealed:
        try:
            opener.open(env, stream_id=S, entry_id=eid, version_id=V)
        except DecryptionError:
            failed += 1
    assert failed == 0, f"{failed} of {len(sealed)} envelopes sealed under another batch's key"
