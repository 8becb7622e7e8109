"""API fuzzing with schemathesis against the server's own ``/openapi.json``.

A real ``neurallog serve`` on a free port over the session's Redis; every operation of the
document, as admin, member, auditor and unauthenticated, with schema-conforming (positive)
and schema-violating (negative) requests. Checked on every response: no 5xx; every error is
``application/problem+json`` with ``type``/``title``/``status``; every stateless check of
schemathesis (status code, content type, body and headers conform to the document; negative
data is rejected; positive data is accepted, save a 422 for users that do not exist, which
a schema cannot know). ``unsupported_method``, ``missing_required_header`` and
``allow_header_conformance`` act on schemathesis's coverage phase, which is too slow here:
tests/server/test_protocol_errors.py sends every undocumented method to every path.
Examples per operation, role and mode: 5 in the
``ci`` profile, 50 in ``long`` (``NEURALLOG_FUZZ_PROFILE``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from fuzzing import PROFILE
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from tests.reliability.world import World, build_world, start_serve
from tests.server.serving import Serve

EXAMPLES = {"ci": 5, "long": 50}[PROFILE]
ROLES = ("none", "auditor", "member", "admin")  # admin last: its writes change the world
#: every stateless check of schemathesis (the stateful ones need a recorded scenario)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
    ignored_auth,
]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300 if PROFILE == "ci" else 3600)]


@pytest.fixture
def served(redis_url: str, tmp_path: Path) -> Iterator[tuple[Serve, World]]:
    if redis_url.startswith("redis+cluster"):
        pytest.skip("the API fuzz runs on the single-Redis fixture")
    server = start_serve(redis_url, tmp_path / "serve.log")
    try:
        yield server, build_world(server.base, redis_url)
    finally:
        server.terminate()


def _problem_errors(response: Any) -> list[str]:
    """What is wrong with an error response (a schemathesis ``Response``)."""
    if response.status_code < 400:
        return []
    ctype = response.headers.get("content-type", [""])
    ctype = ctype[0] if isinstance(ctype, list) and ctype else str(ctype or "")
    if not ctype.startswith("application/problem+json"):
        return [f"error {response.status_code} with content type {ctype!r}"]
    try:
        doc = response.json()
    except ValueError:
        return [f"error {response.status_code}: body is not JSON"]
    missing = [k for k in ("type", "title", "status") if k not in doc]
    if missing or doc.get("status") != response.status_code:
        return [f"error {response.status_code}: problem document {doc!r}"]
    if not str(doc["type"]).startswith("urn:neurallog:problem:"):
        return [f"error {response.status_code}: unexpected problem type {doc['type']!r}"]
    return []


def _summary(failure: BaseException) -> str:
    """Title and the lines that say what, without the long response dump."""
    lines = [line.strip() for line in str(failure).splitlines() if line.strip()]
    keep = [line for line in lines if not line.startswith(("`", "curl", "[", "Reproduce"))]
    return " / ".join(keep[:5])[:400]


def _python_anchors(node: Any) -> Any:
    """The document with each pattern's final ``$`` as ``\\Z``.

    OpenAPI patterns are ECMA-262, where ``$`` is the end of the text; schemathesis applies
    them as Python patterns, where ``$`` also matches before a final newline, and so sends
    ``"abc\\n"`` as a valid id. ``\\Z`` is the ECMA meaning in Python.
    """
    if isinstance(node, list):
        return [_python_anchors(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _python_anchors(value) for key, value in node.items()}
    pattern = node.get("pattern")
    if isinstance(pattern, str) and pattern.endswith("$"):
        out["pattern"] = pattern[:-1] + "\\Z"
    return out


def _state_dependent(response: Any) -> bool:
    """A 422 for what a schema cannot know: the body names users that do not exist or are
    disabled, or leaves active users without a blob, or a signed chain link whose content
    does not fit (docs/api.md). Every other 422 is a shape error."""
    if response.status_code != 422:
        return False
    try:
        doc = response.json()
    except ValueError:
        return False
    detail = str(doc.get("detail", ""))
    field = str(doc.get("field", ""))
    # a signed chain link is JSON text inside a string: its shape, tenant, kind and
    # agreement with the request are checked beyond what a schema can say (docs/api.md)
    if field == "link" or field.startswith("links"):
        return True
    return field in {"blobs", "remove_users"} and (
        "does not exist" in detail or "is disabled" in detail or "missing_users" in doc
    )


def test_openapi_fuzz_every_operation_every_role(served: tuple[Serve, World]) -> None:
    server, world = served
    document = requests.get(server.base + "/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(_python_anchors(document))
    session = requests.Session()
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 29, "the document lost operations"
    for role in ROLES:
        headers = world.roles()[role]
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _fuzz(operation, mode, server.base, headers, session, failures, statuses, role)
    session.close()
    print(f"api fuzz: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")
    log = server.log()
    assert "Traceback" not in log, log[-3000:]
    assert sum(statuses.values()) >= len(operations) * len(ROLES), statuses
    assert not statuses.get(500), statuses
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(sorted(set(failures))[:60])


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    base: str,
    headers: dict[str, str],
    session: requests.Session,
    failures: list[str],
    statuses: Counter[int],
    role: str,
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        response = case.call(base_url=base, session=session, headers=headers, timeout=30)
        statuses[response.status_code] += 1
        where = f"{role} {mode.value} {operation.label}"
        failures.extend(f"{where}: {e}" for e in _problem_errors(response))
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # a schemathesis FailureGroup: one line per failure
            if not hasattr(exc, "exceptions") and not isinstance(exc, AssertionError):
                raise
            said = f"{response.status_code} {response.text[:200]}"
            for failure in getattr(exc, "exceptions", [exc]):
                if "Valid data should have been accepted" in str(failure) and _state_dependent(
                    response
                ):
                    continue
                failures.append(f"{where}: {_summary(failure)} / answer: {said}")

    try:
        run()
    except Unsatisfiable:  # nothing to violate (an operation without parameters or body)
        assert mode is GenerationMode.NEGATIVE
