"""The OpenAPI 3 document, assembled from the route declarations, and its browser views.

Every documented route carries its operation (:func:`neurallog.server.docs.documented`,
which :func:`neurallog.server.routes.declare` calls with the route's rule, path and body
schema); :func:`document` walks the app's routes and adds what only the router knows
(path, method, ``operationId``, the blueprint as tag). Built per app, so a process that
runs several apps (the tests) documents each one's own routes. :func:`blueprint` serves it
at ``/docs/openapi.json`` with Swagger UI (``/docs``, ``/docs/swagger``) and ReDoc
(``/docs/redoc``) pages that load their scripts from a CDN.
"""

from __future__ import annotations

import re
from typing import Any

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, html

from neurallog.server.docs import documentation
from neurallog.server.reply import json

OPENAPI = "3.0.3"
TITLE = "NeuralLog KEK service"
VERSION = "1"
DESCRIPTION = "Zero-knowledge KEK and encrypted-log service; see docs/api.md."
SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "nla1.<tenant>.<key_id>.<token>",
    }
}
UI_PREFIX = "/docs"
_UI_BLUEPRINT = "openapi"
_PARAM = re.compile(r"<(\w+)(?::[^>]*)?>")
_SWAGGER_CDN = "https://cdnjs.cloudflare.com/ajax/libs/swagger-ui/4.10.3"
_REDOC_CDN = "https://cdn.redoc.ly/redoc/latest/bundles/redoc.standalone.js"
#: Swagger UI settings served at /docs/swagger-config
SWAGGER_CONFIG = {"apisSorter": "alpha", "operationsSorter": "alpha", "docExpansion": "full"}


def document(app: Sanic[Any, Any]) -> dict[str, Any]:
    """The OpenAPI document of ``app``'s documented routes."""
    prefix = app.name + "."
    paths: dict[str, dict[str, Any]] = {}
    for route in app.router.routes:
        found = documentation(route.handler)
        if found is None:
            continue
        path = "/" + _PARAM.sub(r"{\1}", route.path)
        name = route.name.removeprefix(prefix)
        blueprint, dot, _ = name.partition(".")
        for method in sorted(route.methods):
            operation = {"operationId": f"{method.lower()}~{name}", **found.operation}
            if dot:
                operation["tags"] = [blueprint]
            paths.setdefault(path, {})[method.lower()] = operation
    return {
        "openapi": OPENAPI,
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": dict(sorted(paths.items())),
        "tags": [{"name": name} for name in app.blueprints if name != _UI_BLUEPRINT],
        "components": {"securitySchemes": SECURITY_SCHEMES},
    }


_SWAGGER_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" type="text/css" href="{_SWAGGER_CDN}/swagger-ui.min.css">
<title>{TITLE}</title>
</head>
<body style="margin: 0">
<div id="openapi"></div>
<script src="{_SWAGGER_CDN}/swagger-ui-bundle.min.js"></script>
<script src="{_SWAGGER_CDN}/swagger-ui-standalone-preset.min.js"></script>
<script>
window.onload = function () {{
  SwaggerUIBundle({{
    url: "{UI_PREFIX}/openapi.json",
    configUrl: "{UI_PREFIX}/swagger-config",
    dom_id: "#openapi",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout"
  }})
}}
</script>
</body>
</html>
"""

_REDOC_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{TITLE}</title>
</head>
<body style="margin: 0">
<redoc spec-url="{UI_PREFIX}/openapi.json"></redoc>
<script src="{_REDOC_CDN}"></script>
</body>
</html>
"""

#: Swagger UI's OAuth2 redirect target; the API takes bearer credentials only, so the page
#: just hands control back to the opener
_OAUTH2_REDIRECT_PAGE = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>OAuth2 redirect</title></head>
<body><script>window.close()</script></body>
</html>
"""


def blueprint() -> Blueprint:
    """The document at ``/docs/openapi.json`` and its Swagger UI and ReDoc pages."""
    bp = Blueprint(_UI_BLUEPRINT, url_prefix=UI_PREFIX)

    @bp.get("", name="index")
    async def index(request: Request) -> HTTPResponse:
        return html(_SWAGGER_PAGE)

    @bp.get("/swagger", name="swagger")
    async def swagger(request: Request) -> HTTPResponse:
        return html(_SWAGGER_PAGE)

    @bp.get("/redoc", name="redoc")
    async def redoc(request: Request) -> HTTPResponse:
        return html(_REDOC_PAGE)

    @bp.get("/openapi.json", name="spec")
    async def spec(request: Request) -> HTTPResponse:
        return json(document(request.app))

    @bp.get("/swagger-config", name="swagger_config")
    async def swagger_config(request: Request) -> HTTPResponse:
        return json(SWAGGER_CONFIG)

    @bp.get("/oauth2-redirect.html", name="oauth2_redirect")
    async def oauth2_redirect(request: Request) -> HTTPResponse:
        return html(_OAUTH2_REDIRECT_PAGE)

    return bp
