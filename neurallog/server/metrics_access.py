"""Who may scrape ``GET /metrics``.

Metrics hold no tenant, user, path or key, but they tell anyone who can read them the
server's traffic, error and authentication-failure rates. So: with
``NEURALLOG_METRICS_TOKEN`` set, a scrape must carry ``Authorization: Bearer <token>``
(401 otherwise); without it, only a client on the loopback interface may scrape (403
otherwise). The loopback check uses the client address (the forwarded one when Sanic is
configured to trust a proxy): a same-host reverse proxy without trusted forwarding
headers makes every request loopback, so behind one set the token or do not route
``/metrics`` (docs/operations.md).
"""

from __future__ import annotations

import hmac
import ipaddress

from sanic import Request

from neurallog.server.auth import client_address
from neurallog.server.context import app_ctx
from neurallog.server.problems import Problem

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="neurallog-metrics"'}


def check_metrics_access(request: Request) -> None:
    """Return when the caller may read the metrics, else raise 401 or 403."""
    token = app_ctx(request).config.metrics_token
    if token:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        presented = value.strip().encode()
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented, token.encode()):
            raise Problem(401, "metrics need Bearer NEURALLOG_METRICS_TOKEN", headers=_CHALLENGE)
        return
    address = client_address(request)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        loopback = False
    else:
        mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
        loopback = (mapped or ip).is_loopback
    if not loopback:
        raise Problem(
            403,
            "metrics are served to loopback clients only; set NEURALLOG_METRICS_TOKEN "
            "to scrape from elsewhere",
        )
