"""Sealing the committed KEK blobs of a large version on several cores.

The key schedule of a seal holds the GIL; only its two scalar multiplications do not, and
a batch in one process shares those with helper threads
(:meth:`neurallog.crypto.hpke_x25519.Sealer.many`, about 1.5x on two cores). From
:data:`POOL_THRESHOLD` recipients a create or rotation seals in worker *processes*
(:mod:`neurallog._seal_worker`), :data:`POOL_BATCH` blobs per request, while the event
loop uploads the chunks already sealed. Both numbers come from ``bench/client.py``
(docs/operations.md, "Rotation at scale"). A worker says when it has loaded; until one
has, the chunks are sealed in the client's process (a thread), so a rotation never waits
for the workers to start.

- A worker is a fresh interpreter started with ``python -c`` (not ``multiprocessing``,
  whose ``spawn`` would run the caller's ``__main__`` again and whose ``fork`` would copy
  the client's threads, locks and nonce state): it inherits no memory of the client, and
  HPKE draws a fresh ephemeral key per blob in it.
- A worker receives the Operational KEK of the version being sealed (on its stdin, a pipe
  between two processes of the same user) and the recipients' public keys; it returns
  format-2 blobs only, so it never holds the signing key or the Master KEK.
- The pool belongs to one client: started on first use, kept for the next rotation,
  stopped by the client's ``close()`` (stdin closed, then killed if it lingers). A forked
  child of the client forgets it. If a worker cannot start or fails, that batch is sealed
  in the client's own process: slower, never wrong.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from neurallog import _fork
from neurallog._seal_worker import HEADER, frame
from neurallog.crypto import hpke_x25519

POOL_THRESHOLD = 4000
"""Recipients from which sealing goes to worker processes: below it, starting the
workers costs more than they save (measured with ``bench/client.py`` on two cores)."""

POOL_BATCH = 500
"""Blobs per request to a worker."""

MAX_WORKERS = 8
STOP_TIMEOUT = 5.0

_BOOT = (
    "import sys, json; sys.path[:] = json.loads(sys.argv[1]); "
    "from neurallog._seal_worker import main; main()"
)

Recipient = tuple[str, bytes]
"""``(user_id, serialised public key)``: what a worker needs to seal to one user."""


class WorkerError(Exception):
    """A worker failed or could not start (the batch is then sealed in-process)."""


def default_workers() -> int:
    """One worker per core this process may use (at most :data:`MAX_WORKERS`)."""
    return max(1, min(MAX_WORKERS, hpke_x25519.usable_cores()))


def _consume(task: asyncio.Task[None]) -> None:
    """Mark a worker's start as looked at: a start that failed is that worker's error, raised
    by its next batch (or nobody's, when none comes)."""
    if not task.cancelled():
        task.exception()


class _Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        #: done once the worker said it has loaded (its first frame); WorkerError if not
        self.ready: asyncio.Task[None] = asyncio.ensure_future(self._hello())
        self.ready.add_done_callback(_consume)

    async def _hello(self) -> None:
        stdout = self.proc.stdout
        if stdout is None:
            raise WorkerError("worker has no pipes")
        try:
            (size,) = HEADER.unpack(await stdout.readexactly(HEADER.size))
            hello = json.loads(await stdout.readexactly(size))
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise WorkerError(f"worker failed to start: {type(exc).__name__}") from None
        if hello != {"ready": True}:
            raise WorkerError("worker failed to start")

    def loaded(self) -> bool:
        return self.ready.done() and not self.ready.cancelled() and not self.ready.exception()

    async def seal(self, request: dict[str, Any]) -> list[bytes]:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        if stdin is None or stdout is None:
            raise WorkerError("worker has no pipes")
        await self.ready
        try:
            stdin.write(frame(request))
            await stdin.drain()
            (size,) = HEADER.unpack(await stdout.readexactly(HEADER.size))
            answer = json.loads(await stdout.readexactly(size))
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            raise WorkerError(f"worker failed: {type(exc).__name__}") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("blobs"), list):
            raise WorkerError(f"worker failed: {answer.get('error') if answer else answer}")
        return [base64.b64decode(b) for b in answer["blobs"]]


class SealPool:
    """Worker processes of one client, started on first use (see the module)."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or default_workers()
        #: blobs the workers sealed so far (the rest of a rotation's went in-process)
        self.sealed = 0
        self._idle: asyncio.Queue[_Worker | None] | None = None
        self._all: list[_Worker] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._starting: asyncio.Task[asyncio.Queue[_Worker | None]] | None = None
        self._owner = _fork.pid()
        _fork.register(self)

    def after_fork_in_child(self) -> None:
        # The parent's workers: never written to nor stopped from a child.
        self._idle, self._all, self._loop, self._starting = None, [], None, None

    @property
    def started(self) -> int:
        """How many workers run now."""
        return sum(1 for w in self._all if w.proc.returncode is None)

    def ready(self) -> bool:
        """Whether a worker has loaded and can take a batch now (a rotation seals in its
        own process until then, instead of waiting for the start)."""
        return any(w.loaded() and w.proc.returncode is None for w in self._all)

    async def start(self) -> None:
        """Start the workers now (they start on first use otherwise)."""
        await self._start()

    async def _start(self) -> asyncio.Queue[_Worker | None]:
        """The idle-worker queue, the workers started once per loop (concurrent callers
        share one start)."""
        loop = asyncio.get_running_loop()
        if self._starting is None or self._loop is not loop or self._owner != _fork.pid():
            self._kill_others()
            self._owner, self._loop = _fork.pid(), loop
            self._starting = loop.create_task(self._spawn())
        return await asyncio.shield(self._starting)

    def _kill_others(self) -> None:
        """End the workers of another loop (or none): their pipes belong to that loop."""
        workers, self._all, self._idle, self._starting = self._all, [], None, None
        if self._owner != _fork.pid():
            return
        for worker in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.proc.pid, signal.SIGKILL)

    async def _spawn(self) -> asyncio.Queue[_Worker | None]:
        idle: asyncio.Queue[_Worker | None] = asyncio.Queue()
        for _ in range(self.workers):
            try:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    _BOOT,
                    json.dumps(sys.path),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                )
            except OSError:
                break  # no interpreter to start (embedded Python): seal in-process
            worker = _Worker(proc)
            self._all.append(worker)
            idle.put_nowait(worker)
        if not self._all:
            idle.put_nowait(None)
        self._idle = idle
        return idle

    async def seal(
        self,
        op_kek: bytes,
        *,
        tenant_id: str,
        version_id: str,
        aead: str,
        batch: Sequence[Recipient],
    ) -> list[bytes]:
        """Format-2 blobs for ``batch``, sealed by the next idle worker; ``WorkerError``
        when none runs or it failed (the caller seals in-process then)."""
        idle = await self._start()
        worker = await idle.get()
        if worker is None:  # no worker left: wake the next waiter too
            idle.put_nowait(None)
            raise WorkerError("no sealing worker runs")
        request = {
            "kek": base64.b64encode(op_kek).decode(),
            "tenant": tenant_id,
            "version": version_id,
            "aead": aead,
            "items": [[uid, base64.b64encode(public).decode()] for uid, public in batch],
        }
        try:
            blobs = await worker.seal(request)
        except WorkerError:
            with contextlib.suppress(ProcessLookupError):
                worker.proc.kill()
            self._all.remove(worker)
            if not self._all:
                idle.put_nowait(None)
            raise
        idle.put_nowait(worker)
        if len(blobs) != len(batch):
            raise WorkerError("worker answered another number of blobs")
        self.sealed += len(blobs)
        return blobs

    async def close(self) -> None:
        """Stop every worker this process started: stdin closed, killed after a wait."""
        starting = self._starting
        if starting is not None and self._loop is asyncio.get_running_loop():
            with contextlib.suppress(Exception):
                await starting  # a start under way: its workers are stopped too
        if self._loop is not asyncio.get_running_loop():
            self._kill_others()
            self._loop = None
            return
        workers, self._all, self._idle, self._starting = self._all, [], None, None
        self._loop = None
        if self._owner != _fork.pid():
            return
        for worker in workers:
            if worker.proc.stdin is not None:
                worker.proc.stdin.close()
        for worker in workers:
            try:
                await asyncio.wait_for(worker.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    worker.proc.kill()
                await worker.proc.wait()
        await asyncio.gather(*(w.ready for w in workers), return_exceptions=True)
