"""Paths are declared once in neurallog.wire.paths: the server serves exactly those."""

from __future__ import annotations

from typing import Any

import pytest

from neurallog.wire import paths

#: routes the server adds that are not part of the client's wire contract
NOT_CLIENT_ROUTES = {"/metrics", "/openapi.json"}


def _declared() -> set[str]:
    return {
        value
        for name, value in vars(paths).items()
        if name.isupper() and isinstance(value, str) and value.startswith("/")
    }


def test_every_api_route_is_a_declared_path(app: Any) -> None:
    served = {"/" + route.path for route in app.router.routes if not route.path.startswith("docs")}
    declared = {paths.route(p) for p in _declared()}
    assert served - NOT_CLIENT_ROUTES == declared


def test_url_encodes_each_value_as_one_segment() -> None:
    assert paths.url(paths.USER_KEY, user_id="a/b", key_id="k%") == "/api/users/a%2Fb/keys/k%25"
    assert paths.url(paths.VERSIONS) == "/api/kek/versions"


@pytest.mark.parametrize(
    "values", [{}, {"user_id": "u"}, {"user_id": "u", "key_id": "k", "extra": "x"}]
)
def test_url_refuses_missing_or_unknown_parameters(values: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="takes"):
        paths.url(paths.USER_KEY, **values)


def test_route_gives_sanic_string_segments() -> None:
    assert paths.route(paths.USER_BLOB) == (
        "/api/kek/blobs/users/<user_id:str>/versions/<version_id:str>"
    )
