"""A worker process that seals committed (format-2) KEK blobs: see :mod:`neurallog.client.sealing`.

Started as ``python -c`` by the client (never by ``multiprocessing``, which would run the
caller's ``__main__`` again in the child). It reads frames on stdin and answers each on
stdout, until stdin closes. A frame is a 4-byte big-endian length and that many bytes of
JSON::

    request  {"kek": b64, "tenant": str, "version": str, "aead": str,
              "items": [[user_id, b64 serialised public key], ...]}
    answer   {"blobs": [b64 blob, ...]}  |  {"error": "<exception class name>"}

Before the first request the worker writes one frame ``{"ready": true}``, once its modules
are loaded: until then the client seals in its own process.

Nothing is logged and an error names its class only: the request holds a key.
"""

from __future__ import annotations

import base64
import json
import struct
import sys
from typing import IO, Any

HEADER = struct.Struct(">I")
MAX_FRAME = 1 << 30


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame's body, or None at a clean end of stream."""
    head = stream.read(HEADER.size)
    if len(head) < HEADER.size:
        return None
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise ValueError("frame too large")
    body = stream.read(size)
    if len(body) != size:
        raise EOFError("truncated frame")
    return body


def frame(doc: Any) -> bytes:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def seal(request: dict[str, Any]) -> list[str]:
    from neurallog.crypto.blobs import committed_sealer
    from neurallog.crypto.userkeys import UserPublicKey

    seal_one = committed_sealer(
        base64.b64decode(request["kek"]),
        tenant_id=request["tenant"],
        version_id=request["version"],
        aead=request["aead"],
    )
    return [
        base64.b64encode(
            seal_one(user_id, UserPublicKey.from_bytes(base64.b64decode(public)))
        ).decode("ascii")
        for user_id, public in request["items"]
    ]


def main() -> None:
    # The crypto modules load before the worker says it is ready: the client seals in its
    # own process until then, and the first request is not held up by the imports.
    import neurallog.crypto.blobs
    import neurallog.crypto.userkeys  # noqa: F401

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(frame({"ready": True}))  # loaded: the client may send work now
    stdout.flush()
    while (body := read_frame(stdin)) is not None:
        try:
            answer: dict[str, Any] = {"blobs": seal(json.loads(body))}
        except Exception as exc:
            answer = {"error": type(exc).__name__}
        stdout.write(frame(answer))
        stdout.flush()


if __name__ == "__main__":  # pragma: no cover - started with -c by the client
    main()
