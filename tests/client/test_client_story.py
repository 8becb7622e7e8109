"""The whole story over the real server, real Redis and real HTTP, then a zero-knowledge scan.

Operator creates the tenant; the first admin bootstraps it with a generated mnemonic; two
members are enrolled, log and read; a rotation removes one of them; the other keeps
reading old and new data; a version is deprecated; a newcomer is re-provisioned. Then
every Redis key and value and every request body the server received is searched for
plaintext, log names, API-key secrets, the mnemonic and the KEKs in several encodings.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
import redis
from client_live import Recorder, login_refused
from zk_scan import encodings, redis_dump

from neurallog import AsyncNeuralLogClient
from neurallog.client import DeprecatedVersionWarning
from neurallog.crypto.apikeys import ApiKey
from neurallog.crypto.hierarchy import signing_fingerprint
from neurallog.crypto.mnemonic import generate_mnemonic
from neurallog.errors import (
    AuthenticationError,
    ConflictError,
    NoAccessToVersionError,
    PermissionDeniedError,
    VersionDeprecatedError,
    WrongRecoveryPhraseError,
)

TENANT = "story-corp"
LOG = "payments-ledger-zk7"
OTHER_LOG = "audit-trail-q9x"
UNICODE_LOG = "größe-ledger-é9"  # its UTF-8 and NFC bytes must not leak either
MARK = "PLAINTEXT-MARKER"


async def test_whole_story_and_zero_knowledge(
    server_url: str,
    new_tenant: Callable[[str], Awaitable[str]],
    recorder: Recorder,
    raw_redis: redis.Redis[Any],
) -> None:
    secrets_text: list[str] = [LOG, OTHER_LOG, UNICODE_LOG]
    plaintexts: list[str] = []

    def text(n: str) -> str:
        value = f"{MARK}-{n}-card-4111111111111111"
        plaintexts.append(value)
        return value

    # --- operator + bootstrap --------------------------------------------------------
    token = await new_tenant(TENANT)
    async with AsyncNeuralLogClient(server_url) as boot:
        result = await boot.bootstrap_tenant(token)
        v1 = result.version.id
    assert result.mnemonic is not None and len(result.mnemonic.split()) == 24
    assert result.api_key not in repr(result) and result.mnemonic not in repr(result)
    admin_key, mnemonic = result.api_key, result.mnemonic

    # A second bootstrap with the same token fails: it works once.
    async with AsyncNeuralLogClient(server_url) as again:
        with pytest.raises(AuthenticationError):
            await again.bootstrap_tenant(token)

    admin = AsyncNeuralLogClient(server_url, tenant_id=TENANT)
    await admin.authenticate_with_api_key(admin_key)
    with pytest.raises(WrongRecoveryPhraseError, match="does not match this tenant"):
        await admin.initialize_with_mnemonic(generate_mnemonic())
    await admin.initialize_with_mnemonic(mnemonic)
    assert admin.role == "admin" and admin.is_initialized

    # --- enrolment ---------------------------------------------------------------------
    alice_key = await admin.enroll_user("alice")
    bob_key = await admin.enroll_user("bob")
    hierarchy = admin._session.hierarchy  # type: ignore[union-attr]
    assert hierarchy is not None
    for key in (alice_key, bob_key):
        assert ApiKey.parse(key).signing_fingerprint == signing_fingerprint(
            hierarchy.signing_public_key
        )
    coverage = {u.user_id: u.versions for u in await admin.list_users()}
    assert coverage == {"admin": (v1,), "alice": (v1,), "bob": (v1,)}

    alice = AsyncNeuralLogClient(server_url, api_key=alice_key)
    bob = AsyncNeuralLogClient(server_url, api_key=bob_key)
    await alice.__aenter__()
    await bob.__aenter__()
    assert alice.role == "member" and alice.user_id == "alice"

    # Members cannot administer.
    with pytest.raises(PermissionDeniedError):
        await alice.list_users()

    # --- logs under v1 -----------------------------------------------------------------
    await alice.log(LOG, {"by": "alice", "text": text("a1"), "n": 1})
    await bob.log(LOG, text("b1"))
    await bob.log(LOG, (MARK + "-bytes-b2").encode())
    plaintexts.append(MARK + "-bytes-b2")
    await alice.log(OTHER_LOG, {"text": text("other")})
    for reader in (alice, bob, admin):
        page = await reader.get_logs(LOG)
        assert [e.data for e in page.entries] == [
            (MARK + "-bytes-b2").encode(),
            plaintexts[1],
            {"by": "alice", "text": plaintexts[0], "n": 1},
        ]
        assert all(e.version_id == v1 for e in page.entries)
        assert page.cursor is None
        # The writer's time travels inside the ciphertext, close to the server's time.
        for e in page.entries:
            assert e.logged_at is not None and abs(e.logged_at - e.time) < timedelta(seconds=5)

    # --- rotation removing bob ---------------------------------------------------------
    rotation = await admin.rotate_kek("bob left", remove_users=["bob"])
    v2 = rotation.version.id
    assert rotation.removed_users == ("bob",)
    statuses = {v.id: v.status for v in await admin.get_kek_versions()}
    assert statuses == {v1: "decrypt-only", v2: "active"}
    users = {u.user_id: u for u in await admin.list_users()}
    assert users["bob"].state == "removed" and users["bob"].versions == ()
    assert set(users["alice"].versions) == {v1, v2}

    # Bob is refused on new data (and on everything else: his keys are revoked).
    with pytest.raises(AuthenticationError):
        await bob.log(LOG, "after removal")
    with pytest.raises(AuthenticationError):
        await bob.get_logs(LOG)
    await login_refused(server_url, bob_key)

    # Alice, without restarting, writes under v2 and reads old and new.
    await alice.log(LOG, {"text": text("a2"), "after": "rotation"})
    page = await alice.get_logs(LOG)
    assert [e.version_id for e in page.entries] == [v2, v1, v1, v1]
    assert page.entries[0].data == {"text": plaintexts[-1], "after": "rotation"}

    # The encrypted catalogue: alice lists every log of both versions by name.
    await alice.log(UNICODE_LOG, text("unicode"))
    listed = {log.name: log.version_ids for log in await alice.list_logs()}
    assert listed == {LOG: (v1, v2), OTHER_LOG: (v1,), UNICODE_LOG: (v2,)}
    assert {log.name for log in await admin.list_logs()} == set(listed)

    # --- deprecated version ------------------------------------------------------------
    with pytest.raises(ConflictError) as illegal:
        await admin.update_kek_version_status(v2, "deprecated")
    assert illegal.value.extensions.get("allowed") == []
    deprecated = await admin.update_kek_version_status(v1, "deprecated")
    assert deprecated.status == "deprecated"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = await alice.get_logs(LOG)
    assert len(page.entries) == 4
    assert any(issubclass(w.category, DeprecatedVersionWarning) for w in caught)

    # --- a newcomer, re-provisioned with the old version --------------------------------
    carol_key = await admin.enroll_user("carol")
    carol = AsyncNeuralLogClient(server_url, api_key=carol_key)
    await carol.__aenter__()
    page = await carol.get_logs(LOG)
    assert [e.version_id for e in page.entries] == [v2]  # holds only the active version
    assert {log.name: log.version_ids for log in await carol.list_logs()} == {
        LOG: (v2,),
        UNICODE_LOG: (v2,),
    }
    with pytest.raises(VersionDeprecatedError):
        await admin.provision_kek_for_user("carol", v1)
    await admin.update_kek_version_status(v1, "decrypt-only")
    await admin.provision_kek_for_user("carol", v1)
    page = await carol.get_logs(LOG)
    assert [e.version_id for e in page.entries] == [v2, v1, v1, v1]
    await admin.revoke_kek_for_user("carol", v1)
    page = await carol.get_logs(LOG)
    assert [e.version_id for e in page.entries] == [v2]
    assert page.unreadable_versions == (v1,)

    # --- paging across versions ---------------------------------------------------------
    batch = [{"i": i, "text": text(f"batch{i}")} for i in range(25)]
    ids = await alice.log_batch(OTHER_LOG, batch)
    assert len(set(ids)) == 25
    seen: list[Any] = []
    cursor: str | None = None
    while True:
        page = await alice.get_logs(OTHER_LOG, limit=7, cursor=cursor)
        seen += [e.data for e in page.entries]
        cursor = page.cursor
        if cursor is None:
            break
    assert seen == [*reversed(batch), {"text": plaintexts[3]}]

    # --- API keys -------------------------------------------------------------------------
    second_key = await alice.create_api_key(label="laptop")
    async with AsyncNeuralLogClient(server_url, api_key=second_key) as alice2:
        assert (await alice2.get_logs(LOG)).entries[0].version_id == v2
        keys = await alice2.list_api_keys()
        assert len(keys) == 2
        laptop = next(k for k in keys if k.label == "laptop")
    await alice.revoke_api_key(laptop.key_id)
    await login_refused(server_url, second_key)

    # --- no access without a blob; disable ---------------------------------------------------
    await admin.revoke_kek_for_user("carol", v2)
    await carol.refresh()  # a client forgets a version whose blob is gone on its next refresh
    with pytest.raises(NoAccessToVersionError, match="ask a tenant admin"):
        await carol.log(LOG, "no blob")
    await admin.disable_user("carol")
    with pytest.raises(AuthenticationError):
        await carol.get_logs(LOG)

    # --- audit -------------------------------------------------------------------------------
    audit = await admin.get_audit(limit=50)
    assert audit.records and (await admin.verify_audit()).intact

    # --- zero knowledge ---------------------------------------------------------------------------
    binary_secrets: list[bytes] = [hierarchy.master_kek]
    for version_id in (v1, v2):
        binary_secrets.append(hierarchy.operational_kek(version_id))
        working = hierarchy.working_keys(version_id)
        binary_secrets += [working.data_key, working.log_index_key, working.catalogue_key]
    for key in (admin_key, alice_key, bob_key, carol_key, second_key):
        parsed = ApiKey.parse(key)
        binary_secrets += [parsed.secret, parsed.slot_key]
        secrets_text.append(key)
    for client in (admin, alice, bob, carol):
        assert client._session is not None and client._session.keypair is not None
        binary_secrets.append(client._session.keypair.private_bytes())
    secrets_text.append(mnemonic)
    secrets_text += plaintexts

    haystacks = redis_dump(raw_redis) + recorder.bodies()
    haystacks += [f"{m} {p}".encode() for m, p, _, _ in recorder.requests]
    assert len(recorder.requests) > 50
    blob = b"\n".join(haystacks)
    for secret in [s.encode() for s in secrets_text] + binary_secrets:
        for form in encodings(secret):
            assert form not in blob, f"secret leaked in form {form[:12]!r}..."
    # Auth tokens travel in the Authorization header by design, but Redis keeps only hashes.
    redis_blob = b"\n".join(redis_dump(raw_redis))
    for key in (admin_key, alice_key, bob_key, carol_key, second_key):
        for form in encodings(ApiKey.parse(key).auth_token):
            assert form not in redis_blob
    # The catalogue is in use: Redis holds its sealed names, the scan above found none.
    catalogued = [item for item in redis_dump(raw_redis) if b"catalogue" in item]
    assert len(catalogued) >= 2 * 2  # a hash and an index per version
    # The scan can fail: the server does store public values, e.g. the signing key.
    public = hierarchy.signing_public_key
    assert any(form in blob for form in encodings(public))
    assert base64.b64encode(public) in blob

    for client in (admin, alice, bob, carol):
        await client.close()
