"""The sequence check of ``get_logs``: withheld, replayed and reordered entries.

Each entry of framing v3 names its writer session and that session's counter for the log
(0, 1, 2, ... in the order the entries reached the server), inside the ciphertext. A walk
reads entries newest first, so an honest session's counters come down by exactly one at
every step. Per session the check remembers the last counter it saw (carried from page
to page in the cursor) and compares each entry with it:

* the same (session, counter) again: ``replayed``;
* a counter above the last one: ``reordered`` (an older entry sits after a newer one);
* a counter more than one below: ``withheld`` (the counters between are missing), unless
  the missing counters turn up elsewhere on the same page (then it was a reorder, which
  is reported as such).

What no reader can see (a session's newest entries dropped, a whole session dropped, the
oldest entries trimmed) is written down in docs/decisions.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from neurallog.client.framing import MAX_CURSOR_WRITERS
from neurallog.client.models import IntegrityFinding, LogEntry


class SequenceCheck:
    """Checks the pages of one walk, newest first; :attr:`last` goes into the cursor."""

    def __init__(self, last: Mapping[str, int] | None = None) -> None:
        #: Per writer session, the last (oldest so far) counter the walk saw; insertion
        #: order is recency, so the least recently seen session is forgotten first.
        self.last: dict[str, int] = dict(last or {})

    def check(self, entries: Iterable[LogEntry]) -> list[IntegrityFinding]:
        """Findings for one page of entries, newest first (updates :attr:`last`)."""
        findings: list[IntegrityFinding] = []
        seen: dict[tuple[str, int], str] = {(w, c): "" for w, c in self.last.items()}
        last_id: dict[str, str] = {}
        holes: list[Hole] = []
        for entry in entries:
            writer, counter = entry.writer, entry.counter
            if writer is None or counter is None:
                continue  # framing v1/v2: nothing to check
            before = self.last.get(writer)
            newer = tuple(i for i in (last_id.get(writer),) if i)
            if (writer, counter) in seen:
                first = seen[(writer, counter)]
                ids: tuple[str, ...] = (first, entry.id) if first else (entry.id,)
                findings.append(IntegrityFinding("replayed", writer, counter, counter, ids))
                continue
            if before is not None and counter > before:
                findings.append(
                    IntegrityFinding("reordered", writer, before, counter, (*newer, entry.id))
                )
            elif before is not None and counter < before - 1:
                holes.append((writer, counter + 1, before - 1, (*newer, entry.id)))
            seen[(writer, counter)] = entry.id
            last_id[writer] = entry.id
            self._remember(writer, counter)
        for writer, low, high, ids in _merged(holes):
            findings += _missing(writer, low, high, ids, seen)
        return findings

    def _remember(self, writer: str, counter: int) -> None:
        self.last.pop(writer, None)
        self.last[writer] = counter
        while len(self.last) > MAX_CURSOR_WRITERS:
            del self.last[next(iter(self.last))]


Hole = tuple[str, int, int, tuple[str, ...]]


def _merged(holes: list[Hole]) -> list[Hole]:
    """Overlapping holes of one writer as one (a counter is reported missing once)."""
    out: list[Hole] = []
    for writer, low, high, ids in sorted(holes, key=lambda h: (h[0], h[1])):
        if out and out[-1][0] == writer and low <= out[-1][2] + 1:
            _, first, last, before = out[-1]
            out[-1] = (writer, first, max(last, high), tuple(dict.fromkeys(before + ids)))
        else:
            out.append((writer, low, high, ids))
    return out


def _missing(
    writer: str, low: int, high: int, ids: tuple[str, ...], seen: Mapping[tuple[str, int], str]
) -> list[IntegrityFinding]:
    """The runs of ``low..high`` that no entry of the page filled, as ``withheld``."""
    present = sorted(c for w, c in seen if w == writer and low <= c <= high)
    out: list[IntegrityFinding] = []
    start = low
    for counter in [*present, high + 1]:
        if counter > start:
            out.append(IntegrityFinding("withheld", writer, start, counter - 1, ids))
        start = counter + 1
    return out
