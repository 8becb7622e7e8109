"""Rotation does only the per-blob work that is sealing (issue: rotation at scale).

A user's certificate is verified once and remembered under the whole certified record;
the signing key and a version's Operational KEK are derived once per operation, not once
per blob. What a changed record does to the cache is in ``test_client_tamper.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable

import pytest
from client_live import FAST_KDF

from neurallog import AsyncNeuralLogClient
from neurallog.client import _keys
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.crypto.userkeys import UserKeyPair
from neurallog.errors import SignatureError


class CountingHierarchy(KeyHierarchy):
    """The real hierarchy, counting how often each Operational KEK is derived."""

    def __init__(self, source: KeyHierarchy) -> None:
        super().__init__(
            source.tenant_id,
            source.master_kek,
            kdf=source.kdf,
            kdf_params=source.kdf_params,
            secret_kind=source.secret_kind,
            scheme=source.scheme,
        )
        self.derived: Counter[str] = Counter()

    def operational_kek(self, version_id: str) -> bytes:
        self.derived[version_id] += 1
        return super().operational_kek(version_id)


def test_signing_key_is_derived_once_per_hierarchy() -> None:
    hierarchy = KeyHierarchy.from_recovery_phrase("t", "a b c d", params=FAST_KDF)
    assert hierarchy.signing_key is hierarchy.signing_key
    again = KeyHierarchy.from_recovery_phrase("t", "a b c d", params=FAST_KDF)
    assert again.signing_public_key == hierarchy.signing_public_key  # same derivation


def test_certificate_verified_once_and_refusals_never_cached() -> None:
    hierarchy = KeyHierarchy.from_recovery_phrase("cache-corp", "a b c d", params=FAST_KDF)
    public = UserKeyPair.generate().public
    record = _keys.certify_public_key(
        hierarchy.signing_key, public, tenant_id="cache-corp", user_id="carol"
    )
    signer = hierarchy.signing_public_key

    def check(data: bytes, user_id: str = "carol") -> object:
        return _keys.verified_public_key(data, signer, tenant_id="cache-corp", user_id=user_id)

    assert check(record) == public
    hits = _keys._verified.cache_info().hits
    assert check(bytearray(record)) == public
    assert _keys._verified.cache_info().hits == hits + 1
    bad = bytearray(record)
    bad[-1] ^= 1
    for _ in range(2):  # a refusal is not remembered as anything
        with pytest.raises(SignatureError):
            check(bytes(bad))
    with pytest.raises(SignatureError):
        check(record, "dave")  # the cached record under another user


async def test_rotation_derives_each_operational_kek_once(
    server_url: str, new_tenant: Callable[[str], Awaitable[str]]
) -> None:
    token = await new_tenant("work-corp")
    async with AsyncNeuralLogClient(server_url) as admin:
        await admin.bootstrap_tenant(
            token, recovery_phrase="rotation work phrase", kdf_params=FAST_KDF,
            insecure_allow_weak=True,
        )  # fmt: skip
        for user in ("u1", "u2", "u3", "u4"):
            await admin.enroll_user(user)
        session = admin._session
        assert session is not None and session.hierarchy is not None
        counting = CountingHierarchy(session.hierarchy)
        session.hierarchy = counting
        rotated = await admin.rotate_kek("five blobs, one derivation")
        created = await admin.create_kek_version("five more")
        assert counting.derived[rotated.version.id] == 1
        assert counting.derived[created.id] == 1
        blobs = await admin.get_user_blobs("u3")
        assert {b.version_id for b in blobs} >= {rotated.version.id, created.id}
