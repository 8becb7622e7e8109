"""Free loopback ports for the servers the tests start (Redis, Sanic, the container)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """Ask the kernel for a free loopback TCP port (released again before it is used)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
