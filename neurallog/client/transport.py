"""HTTP transport: one ``httpx.AsyncClient``, problem+json turned into typed errors.

Only this module talks HTTP. It retries what is safe to repeat (GET/HEAD, and requests the
caller marks idempotent such as log appends, whose entry ids make a replay a no-op) on
connection failures and on 502/503/504, with a short exponential backoff. The bearer
credential is held here and never appears in a repr, an exception or a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import orjson

from neurallog import _fork
from neurallog.client.lockout import LOCKOUT_TYPE
from neurallog.errors import (
    AdminLockoutError,
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServiceUnavailableError,
)

log = logging.getLogger("neurallog.client")

_ERRORS: dict[int, type[ApiError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
    503: ServiceUnavailableError,
}
_RETRY_STATUS = frozenset({502, 503, 504})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})
#: Advice appended to the server's message, so the error says what to do next.
_ADVICE: dict[int, str] = {
    401: "check the API key (revoked, expired, or the user was disabled or removed)",
    403: "this operation needs another role (admin for KEK and user management)",
    429: "too many failed authentications; wait before retrying",
    503: "the server or its Redis is unavailable; retry later",
}


def error_from_response(response: httpx.Response) -> ApiError:
    """Build the typed error for a non-2xx response (RFC 9457 body when there is one)."""
    status = response.status_code
    doc: Mapping[str, Any] = {}
    try:
        parsed = response.json()
        if isinstance(parsed, Mapping):
            doc = parsed
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        doc = {}
    title = str(doc.get("title") or response.reason_phrase or "HTTP error")
    detail = str(doc.get("detail") or "")
    advice = _ADVICE.get(status)
    if advice and advice not in detail:
        detail = f"{detail} ({advice})" if detail else advice
    extensions: dict[str, object] = {k: v for k, v in doc.items() if k not in _STANDARD_MEMBERS}
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None:
        with contextlib.suppress(ValueError):
            extensions.setdefault("retry_after", float(retry_after))
    cls = _ERRORS.get(status, ApiError)
    if status == 409 and doc.get("type") == LOCKOUT_TYPE:
        cls = AdminLockoutError
    return cls(status, title, detail, str(doc.get("type") or ""), extensions)


class Transport:
    """Async JSON-over-HTTP with typed errors, bounded retries and a private credential."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.1,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retries = max(0, retries)
        self.backoff = backoff
        self._owns_client = http_client is None
        self._timeout = timeout
        self._http = http_client or self._new_http()
        self._credential: str | None = None
        if self._owns_client:
            _fork.register(self)

    def _new_http(self) -> httpx.AsyncClient:
        self._pid = _fork.pid()
        return httpx.AsyncClient(
            base_url=self.base_url, timeout=self._timeout, follow_redirects=False
        )

    def after_fork_in_child(self) -> None:
        """A forked child opens its own connections: the inherited ones are the parent's
        sockets (and its event loop's), so the old pool is dropped, never closed."""
        if self._owns_client:
            self._http = self._new_http()

    def __repr__(self) -> str:
        state = "authenticated" if self._credential else "anonymous"
        return f"Transport({self.base_url!r}, {state})"

    def set_credential(self, credential: str | None) -> None:
        """Use ``Authorization: Bearer <credential>`` on every later request."""
        self._credential = credential

    @property
    def authenticated(self) -> bool:
        return self._credential is not None

    async def aclose(self) -> None:
        if self._owns_client:
            await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        params: Mapping[str, str | int] | None = None,
        bearer: str | None = None,
        idempotent: bool = False,
        encoded_json: bytes | None = None,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> Any:
        """Send one request; return the decoded JSON body (``None`` for 204/empty).

        ``decode`` turns the answer's bytes into the result (a typed decoder for a big
        listing; default the JSON document as is).
        ``encoded_json`` is a body already encoded as UTF-8 JSON (the append hot path
        encodes with orjson); it replaces ``json_body``.
        ``bearer`` overrides the stored credential (the bootstrap token). Raises a subclass
        of :class:`ApiError` for any non-2xx answer, or :class:`ServiceUnavailableError`
        when the server cannot be reached after the allowed retries.
        """
        if self._owns_client and self._pid != _fork.pid():  # a fork the hooks missed
            self.after_fork_in_child()
        method = method.upper()
        retryable = method in _SAFE_METHODS or idempotent
        attempts = 1 + (self.retries if retryable else 0)
        headers = {"Accept": "application/json, application/problem+json"}
        credential = bearer or self._credential
        if credential:
            headers["Authorization"] = f"Bearer {credential}"
        if json_body is not None and encoded_json is None:
            encoded_json = orjson.dumps(json_body)  # a fifth of json.dumps' time on big bodies
        if encoded_json is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = await self._http.request(
                    method,
                    self.base_url + path,
                    content=encoded_json,
                    params=dict(params) if params else None,
                    headers=headers,
                )
            except httpx.TransportError as exc:
                # The message of an httpx error holds only the URL and the cause: no secret.
                if last:
                    raise ServiceUnavailableError(
                        503,
                        "Server unreachable",
                        f"{method} {path} failed: {type(exc).__name__}; "
                        f"check that the server at {self.base_url} is running",
                        "urn:neurallog:problem:unavailable",
                    ) from None
                await self._sleep(attempt)
                continue
            if response.status_code in _RETRY_STATUS and not last:
                log.debug("%s %s -> %s, retrying", method, path, response.status_code)
                await self._sleep(attempt)
                continue
            if response.status_code >= 400:
                raise error_from_response(response)
            if response.status_code == 204 or not response.content:
                return None
            return decode(response.content)  # orjson's errors are json.JSONDecodeError
        raise AssertionError("unreachable")  # pragma: no cover

    async def _sleep(self, attempt: int) -> None:
        delay = self.backoff * (2**attempt)
        await asyncio.sleep(delay + random.uniform(0, delay / 2))

    async def get(
        self,
        path: str,
        params: Mapping[str, str | int] | None = None,
        *,
        decode: Callable[[bytes], Any] = orjson.loads,
    ) -> Any:
        return await self.request("GET", path, params=params, decode=decode)

    async def post(self, path: str, body: Any, *, idempotent: bool = False) -> Any:
        return await self.request("POST", path, json_body=body, idempotent=idempotent)

    async def post_encoded(self, path: str, body: bytes, *, idempotent: bool = False) -> Any:
        """POST a body already encoded as UTF-8 JSON."""
        return await self.request("POST", path, encoded_json=body, idempotent=idempotent)

    async def put(self, path: str, body: Any) -> Any:
        return await self.request("PUT", path, json_body=body)

    async def delete(self, path: str) -> Any:
        return await self.request("DELETE", path)
