"""Where a log's entries live: one stream per version, plus the rewrapped streams.

Entries are written to the stream of the active version (:meth:`WorkingKeys.stream_id`).
A rewrap (:mod:`neurallog.client.rewrap`) moves the entries of an older version, the
*origin*, to a stream of the active version keyed by that origin
(:meth:`WorkingKeys.rewrap_stream_id`), each keeping its seq and id. So the entries of one
origin share one seq space, spread over the origin's own stream and the rewrapped streams
of the versions created after it. A rewrap always moves the oldest entries of a stream
into the newest version, so the streams of an origin, from the newest holder back to the
origin itself, hold consecutive ranges of its entries, oldest first.
"""

from __future__ import annotations

from neurallog.client.models import Version
from neurallog.client.session import Session


def creation_order(session: Session) -> list[Version]:
    """The known versions, oldest first (the active version is always the newest)."""
    return sorted(session.versions.values(), key=lambda v: v.created_at)


def origin_streams(session: Session, log_name: str) -> dict[str, list[tuple[str, str]]]:
    """Per origin version, the (holder version, stream id) pairs this client can read,
    in the order entries move: the origin's own stream, then the rewrapped streams of the
    versions created after it, oldest first. Origins with no readable stream are left
    out; a destroyed origin keeps its rewrapped streams."""
    order = creation_order(session)
    held = session.held()
    out: dict[str, list[tuple[str, str]]] = {}
    for i, origin in enumerate(order):
        streams: list[tuple[str, str]] = []
        if origin.id in held:
            streams.append((origin.id, session.working_keys(origin.id).stream_id(log_name)))
        for later in order[i + 1 :]:
            if later.id in held:
                keys = session.working_keys(later.id)
                streams.append((later.id, keys.rewrap_stream_id(origin.id, log_name)))
        if streams:
            out[origin.id] = streams
    return out
