"""Where the local server is, for tools run beside it (the console, the CLI).

``NEURALLOG_URL`` when set; otherwise the address ``neurallog serve`` listens on with the
same environment (``NEURALLOG_HOST``, ``NEURALLOG_PORT``), so a console started next to a
server on another port finds it instead of a stranger's server on the default port.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from neurallog.crypto.apikeys import BootstrapToken

__all__ = ["bootstrap_token_tenant", "default_server_url"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_ANY = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 (bind-all addresses, mapped to loopback)


def default_server_url(env: Mapping[str, str] | None = None) -> str:
    """The server URL a local tool should use when none is given."""
    env = os.environ if env is None else env
    url = env.get("NEURALLOG_URL", "").strip()
    if url:
        return url.rstrip("/")
    host = env.get("NEURALLOG_HOST", "").strip()
    if host in _ANY:
        host = DEFAULT_HOST if host in ("", "0.0.0.0") else "::1"  # noqa: S104
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = env.get("NEURALLOG_PORT", "").strip() or str(DEFAULT_PORT)
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"NEURALLOG_PORT must be a port number (1..65535), not {port!r}")
    return f"http://{host}:{int(port)}"


def bootstrap_token_tenant(token: str) -> str:
    """The tenant a bootstrap token is for (``InvalidApiKeyError`` if it is malformed)."""
    return BootstrapToken.parse(token.strip()).tenant_id
