"""The multiprocess directory of one ``neurallog serve`` run.

``prometheus_client`` sums the workers' metrics from memory-mapped files in
``PROMETHEUS_MULTIPROC_DIR``; it picks that mode when it is first imported, so the
variable must be set before the workers start (they are spawned and inherit it). Files
left by an earlier run would be summed in, so the directory is emptied at start; an
operator-set directory (a tmpfs, say) is used and emptied, otherwise a private one is
made and removed at the end.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from neurallog.server.metrics import MULTIPROC_ENV

__all__ = ["multiprocess_dir"]


@contextlib.contextmanager
def multiprocess_dir() -> Iterator[Path]:
    """Export an empty metrics directory for the run's workers; tidy it up afterwards."""
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        _empty(path)
    else:
        path = Path(tempfile.mkdtemp(prefix="neurallog-metrics-"))
    os.environ[MULTIPROC_ENV] = str(path)
    try:
        yield path
    finally:
        if given:
            _empty(path)
        else:
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(path, ignore_errors=True)


def _empty(path: Path) -> None:
    for db in path.glob("*.db"):
        with contextlib.suppress(FileNotFoundError):
            db.unlink()
