"""Fork detection for objects whose state must not go on in a forked child (nonce counters).

A forked child inherits its parent's memory: a sealer's salt and nonce counter would go on
in both processes, and two entries would share a (subkey, nonce) pair. Two lines of defence:

1. ``os.register_at_fork(after_in_child=...)`` tells every live registered object (held by
   weak reference only) to start afresh in the child of any ``os.fork()``
   (multiprocessing, gunicorn ``--preload``, Celery prefork). The client registers its
   HTTP connection pool and its loop thread too, which a child cannot share either.
2. :func:`pid` answers "which process am I?" exactly, even after a fork that skipped the
   Python hooks (a C extension or an embedding server calling ``fork()`` itself).
   ``os.getpid()`` is a system call (about a microsecond on a virtual machine, half the
   cost of sealing 256 bytes), so :func:`pid` caches it and learns of a fork from one page
   of memory marked ``MADV_WIPEONFORK``: the kernel hands the child that page zeroed,
   whatever way it forked. Reading one byte of it is all the hot path pays. Where the
   kernel lacks that flag (not Linux, or older than 4.14), :func:`pid` asks the kernel
   every time: slower, never wrong.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import platform
import sys
import weakref
from typing import Protocol

__all__ = ["CACHED_PID", "WIPED", "ForkAware", "pid", "refresh", "register"]

#: Linux ``MADV_WIPEONFORK`` (asm-generic; PA-RISC numbers it differently). Python 3.11's
#: ``mmap`` module does not export it yet.
_MADV_WIPEONFORK = 71 if platform.machine().startswith("parisc") else 18


class ForkAware(Protocol):
    """An object that must not carry its state into a forked child."""

    def after_fork_in_child(self) -> None: ...


def _wipe_on_fork_page() -> mmap.mmap | bytearray:
    """One private page the kernel zeroes in every child; a zero byte where unsupported."""
    if sys.platform != "linux":
        return bytearray(1)
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        page.madvise(_MADV_WIPEONFORK)
    except (OSError, ValueError, AttributeError):
        return bytearray(1)
    return page


#: ``WIPED[0]`` is 1 while ``CACHED_PID[0]`` is known to be this process's id, 0 after a fork.
WIPED = _wipe_on_fork_page()
_ARMED = isinstance(WIPED, mmap.mmap)
CACHED_PID = [os.getpid()]
_objects: weakref.WeakSet[ForkAware] = weakref.WeakSet()


def refresh() -> int:
    """Ask the kernel for the process id, cache it and re-arm the page; return it."""
    current = os.getpid()
    CACHED_PID[0] = current  # before re-arming: a reader that sees the mark sees this id
    if _ARMED:
        WIPED[0] = 1
    return current


def pid() -> int:
    """This process's id: the cached one unless the kernel wiped the page (a fork)."""
    return CACHED_PID[0] if WIPED[0] else refresh()


def register(obj: ForkAware) -> None:
    """Have ``obj.after_fork_in_child()`` run in the child of every ``os.fork()``."""
    _objects.add(obj)


def _after_fork_in_child() -> None:
    refresh()
    for obj in list(_objects):
        # One failure must not spare the others; the pid check still catches this one.
        with contextlib.suppress(Exception):
            obj.after_fork_in_child()


refresh()
os.register_at_fork(after_in_child=_after_fork_in_child)
