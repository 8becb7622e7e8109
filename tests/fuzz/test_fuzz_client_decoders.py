"""Fuzzing the client's decoders of server answers: wire models, problem documents, the
plaintext framing of log entries and the paging cursor a caller passes back.

A server answer of the wrong shape must be a ``FormatError`` (never a KeyError or
AttributeError deep in the client); an error response of any shape becomes an ``ApiError``;
a bad cursor is the documented ``ValueError``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from fuzzing import FUZZ, JSON, only
from hypothesis import given, settings
from hypothesis import strategies as st

from neurallog.client import models
from neurallog.client.framing import (
    decode_cursor,
    decode_data,
    decode_frame,
    encode_cursor,
    encode_data,
)
from neurallog.client.transport import error_from_response
from neurallog.errors import ApiError, FormatError

MODELS = [
    models.Version,
    models.Blob,
    models.User,
    models.Key,
    models.KeySlot,
    models.Profile,
    models.Tenant,
    models.Entry,
    models.AuditRecord,
    models.AuditPage,
]
FIELDS = sorted(
    {
        "id", "status", "created_at", "created_by", "reason", "blob_count", "user_id",
        "version_id", "blob", "role", "state", "public_key", "versions", "key_id", "label",
        "expires_at", "revoked", "slot", "tenant_id", "kdf", "kdf_params", "cipher", "kem",
        "secret_kind", "key_check", "signing_public_key", "profile", "envelope", "seq",
        "time", "actor", "action", "target", "outcome", "prev_hash", "hash", "records",
        "next", "intact", "first_broken",
    }
)  # fmt: skip
VALUES = JSON | st.sampled_from(
    ["2026-11-29T05:00:00Z", "AAAA", "active", "member", "1-0", "x25519", "phrase", 0, True]
)
DOCS = st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=12) | JSON


@settings(FUZZ, report_multiple_bugs=False)
@given(model=st.sampled_from(MODELS), doc=DOCS)
def test_models_accept_or_raise_format_error(model: Any, doc: Any) -> None:
    only((FormatError,), model.from_json, doc)


@FUZZ
@given(
    status=st.integers(400, 599),
    body=st.binary(max_size=200) | JSON.map(lambda v: json.dumps(v).encode()),
    retry=st.none() | st.text(max_size=8),
)
def test_problem_documents_of_any_shape(status: int, body: bytes, retry: str | None) -> None:
    headers = {"content-type": "application/problem+json"}
    if retry is not None and retry.isprintable() and retry.isascii():
        headers["retry-after"] = retry
    error = error_from_response(httpx.Response(status, content=body, headers=headers))
    assert isinstance(error, ApiError) and error.status == status


@FUZZ
@given(st.binary(max_size=200))
def test_decode_data(plaintext: bytes) -> None:
    ok, value = only((FormatError,), decode_data, plaintext)
    if ok:
        assert decode_data(encode_data(value)) == value
    only((FormatError,), decode_frame, plaintext)


@FUZZ
@given(
    st.text(max_size=120)
    | st.dictionaries(st.text(max_size=8), st.none() | st.text(max_size=8)).map(encode_cursor)
)
def test_decode_cursor(cursor: str) -> None:
    only((ValueError,), decode_cursor, cursor)
