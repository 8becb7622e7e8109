"""What the client tests share around a live server: the server itself is
:func:`tests.support.live.serve` (a thread with its own event loop, real HTTP)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from tests.support.live import LiveServer, serve

if TYPE_CHECKING:
    from neurallog import AsyncNeuralLogClient

__all__ = [
    "FAST_KDF",
    "LiveServer",
    "Recorder",
    "Rewrite",
    "RewritingTransport",
    "bootstrapped_admin",
    "login_refused",
    "serve",
]

#: Small argon2id parameters so the suite stays fast (the default is m=64 MiB, t=3).
FAST_KDF = {"t": 1, "m": 1024, "p": 1}


class Recorder:
    """Every (method, path, headers, body) the server received, in order."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def bodies(self) -> list[bytes]:
        return [body for _, _, _, body in self.requests]


async def login_refused(url: str, api_key: str) -> None:
    """Assert a fresh client cannot authenticate with ``api_key`` (and close it)."""
    from neurallog import AsyncNeuralLogClient
    from neurallog.errors import AuthenticationError

    client = AsyncNeuralLogClient(url)
    try:
        await client.authenticate_with_api_key(api_key)
    except AuthenticationError:
        return
    finally:
        await client.close()
    raise AssertionError("the API key still authenticates")


async def bootstrapped_admin(
    url: str, token: str, phrase: str, *, chain_heads: str | os.PathLike[str] = "memory"
) -> AsyncNeuralLogClient:
    """An admin client of a tenant bootstrapped now with ``phrase`` and the fast KDF (the
    caller closes it); its verified chain heads kept in ``chain_heads``."""
    from neurallog import AsyncNeuralLogClient

    admin = AsyncNeuralLogClient(url, chain_heads=chain_heads)
    await admin.bootstrap_tenant(
        token, recovery_phrase=phrase, kdf_params=FAST_KDF, insecure_allow_weak=True
    )
    return admin


Rewrite = Callable[[str, str, Any], Any]
"""``rewrite(method, path, json_body) -> json_body`` for answers on their way back."""


class RewritingTransport(httpx.AsyncBaseTransport):
    """Real HTTP to the real server; answers rewritten by ``rewrite`` before the client
    sees them (a server process that lies without touching Redis)."""

    def __init__(self, rewrite: Rewrite) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.rewrite = rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        await response.aread()
        kind = response.headers.get("content-type", "")
        if not response.content or "json" not in kind:
            return response
        doc = self.rewrite(request.method, request.url.path, json.loads(response.content))
        return httpx.Response(
            response.status_code,
            headers={"content-type": kind},
            content=json.dumps(doc).encode(),
            request=request,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()
