"""Secrets hygiene: drive every route with known secrets, then look for them everywhere.

A ``neurallog serve`` subprocess (access log on) over the session Redis; the real client
(real crypto) bootstraps a phrase tenant and a mnemonic tenant, enrols users, creates and
revokes API keys, logs canary plaintexts under a canary log name, rotates with a removal,
changes statuses, provisions and revokes blobs, reads the audit log; raw requests add the
error paths (a full API key sent as bearer, a wrong token, a reused bootstrap token,
malformed bodies carrying a secret). Then every secret, in every encoding it could
travel in, is searched for in the server's stdout/stderr, in every response body and in
every key and value of Redis.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from neurallog.client import AsyncNeuralLogClient
from neurallog.crypto.apikeys import ApiKey, BootstrapToken
from tests.reliability.world import create_tenant, start_serve_args

PHRASE = "canary recovery phrase: purple elephants juggle quietly at dawn 7731"
PLAINTEXT = "CANARY-PLAINTEXT-5f1e9c0a-do-not-store"
LOG_NAME = "canary-log-name-3b7d/payments"

pytestmark = pytest.mark.slow


def encodings(value: bytes | str) -> set[bytes]:
    """The forms a secret could leak in: raw, hex, base64, base64url (no padding)."""
    raw = value.encode() if isinstance(value, str) else value
    forms = {raw}
    if isinstance(value, bytes):
        forms |= {
            raw.hex().encode(),
            base64.b64encode(raw),
            base64.b64encode(raw).rstrip(b"="),
            base64.urlsafe_b64encode(raw).rstrip(b"="),
        }
    return {f for f in forms if len(f) >= 12}


class Recorder:
    """Every response body the clients and the raw requests received."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, int, bytes]] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.bodies.append((response.request.url.path, response.status_code, response.content))


def client(base: str, recorder: Recorder) -> AsyncNeuralLogClient:
    http = httpx.AsyncClient(timeout=30, event_hooks={"response": [recorder]})
    return AsyncNeuralLogClient(base, http_client=http)


def redis_dump(url: str) -> bytes:
    """Every key name and value of the Redis, concatenated."""
    r = redis.Redis.from_url(url)
    out: list[bytes] = []
    try:
        for key in r.scan_iter(count=1000):
            out.append(key)
            kind = r.type(key).decode()
            if kind == "string":
                out.append(r.get(key) or b"")
            elif kind == "hash":
                for k, v in r.hgetall(key).items():
                    out += [k, v]
            elif kind == "list":
                out += r.lrange(key, 0, -1)
            elif kind == "set":
                out += list(r.smembers(key))
            elif kind == "zset":
                out += [m for m, _ in r.zrange(key, 0, -1, withscores=True)]
            elif kind == "stream":
                for entry_id, fields in r.xrange(key):
                    out.append(entry_id)
                    for k, v in fields.items():
                        out += [k, v]
            else:
                out.append(r.dump(key) or b"")
    finally:
        r.close()
    return b"\n".join(out)


@pytest.fixture
def hygiene_server(redis_url: str, tmp_path: Path) -> Iterator[Any]:
    if redis_url.startswith("redis+cluster"):
        pytest.skip("scans a single Redis")
    server = start_serve_args(redis_url, tmp_path / "serve.log", "--access-log")
    try:
        yield server
    finally:
        server.terminate()


async def test_no_secret_in_logs_error_bodies_or_redis(hygiene_server: Any, redis_url: str) -> None:
    base = hygiene_server.base
    rec = Recorder()
    secrets_text: list[str] = [PHRASE, PLAINTEXT, LOG_NAME]
    secrets_raw: list[bytes] = []

    # tenant 1: recovery phrase (cheap KDF parameters), every admin operation
    token = create_tenant(redis_url, "hygiene")
    secrets_text += [token, token.split(".")[-1]]
    admin = client(base, rec)
    boot = await admin.bootstrap_tenant(
        token,
        recovery_phrase=PHRASE,
        kdf="pbkdf2-sha256",
        kdf_params={"iterations": 1000},
        insecure_allow_weak=True,
    )
    keys = {"admin": boot.api_key}
    keys["mia"] = await admin.enroll_user("mia")
    keys["audra"] = await admin.enroll_user("audra", role="auditor")
    keys["rex"] = await admin.enroll_user("rex")
    member = client(base, rec)
    await member.authenticate_with_api_key(keys["mia"])
    ids = await member.log_batch(LOG_NAME, [{"msg": PLAINTEXT}, PLAINTEXT, PLAINTEXT.encode()])
    assert len(ids) == 3
    await member.log(LOG_NAME, {"nested": {"secret": PLAINTEXT}})
    keys["mia-2"] = await member.create_api_key(label="second")
    await member.list_api_keys()
    await member.revoke_api_key(ApiKey.parse(keys["mia-2"]).key_id)
    await admin.set_log_retention(LOG_NAME, max_entries=1000)  # admins only
    rotation = await admin.rotate_kek("remove rex", remove_users=["rex"])
    assert list(rotation.removed_users) == ["rex"]
    v3 = await admin.create_kek_version("third")
    old = rotation.version.id
    await admin.update_kek_version_status(old, "deprecated")
    await admin.update_kek_version_status(old, "decrypt-only")
    await admin.provision_kek_for_user("mia", old)
    keys["ned"] = await admin.enroll_user("ned")
    await admin.revoke_kek_for_user("ned", v3.id)
    await admin.provision_kek_for_user("ned", v3.id)
    await admin.get_user_blobs("mia")
    await admin.list_users()
    await admin.disable_user("ned")
    await member.refresh()
    page = await member.get_logs(LOG_NAME, limit=10)
    assert PLAINTEXT in str([e.data for e in page.entries])
    auditor = client(base, rec)
    await auditor.authenticate_with_api_key(keys["audra"])
    await auditor.get_audit(limit=100)
    assert (await auditor.verify_audit()).intact
    await admin.delete_log("another-canary-log")

    # tenant 2: a generated mnemonic
    token2 = create_tenant(redis_url, "hygiene-two")
    secrets_text += [token2, token2.split(".")[-1]]
    admin2 = client(base, rec)
    boot2 = await admin2.bootstrap_tenant(token2)
    assert boot2.mnemonic
    secrets_text += [boot2.mnemonic, boot2.api_key]

    # the keys, their secret parts, and everything derived on the client
    for text in keys.values():
        parsed = ApiKey.parse(text)
        secrets_text += [text, text.split(".")[3]]
        secrets_raw += [parsed.secret, parsed.auth_token, parsed.slot_key]
    hierarchy = admin._need_session().hierarchy
    assert hierarchy is not None
    secrets_raw.append(hierarchy.master_kek)
    for version in await admin.get_kek_versions():
        working = hierarchy.working_keys(version.id)
        secrets_raw += [hierarchy.operational_kek(version.id), working.data_key]
        secrets_raw += [working.log_index_key]
    member_keys = member._need_session().keypair
    assert member_keys is not None
    secrets_raw.append(member_keys.private_bytes()[1:])
    secrets_raw.append(BootstrapToken.parse(token).secret)

    # error paths with secrets in them (raw HTTP)
    async with httpx.AsyncClient(base_url=base, event_hooks={"response": [rec]}) as raw:
        mia = ApiKey.parse(keys["mia"])
        cases: list[tuple[str, str, dict[str, str], Any]] = [
            ("GET", "/api/users/me", {"Authorization": f"Bearer {keys['mia']}"}, None),
            ("GET", "/api/users/me", {"Authorization": keys["mia"]}, None),
            ("GET", "/api/kek/blobs/me", {"Authorization": f"Bearer {token}"}, None),
            ("POST", "/api/tenants/bootstrap", {"Authorization": f"Bearer {token}"}, {}),
            ("POST", "/api/tenants/bootstrap", {"Authorization": f"Bearer {keys['mia']}"}, {}),
            (
                "GET",
                "/api/users/me",
                {"Authorization": f"Bearer nla1.hygiene.{mia.key_id}.{keys['rex'].split('.')[3]}"},
                None,
            ),
        ]
        bearer = {"Authorization": f"Bearer {mia.bearer_credential()}"}
        # retention is admin-only: the admin's bearer reaches the body checks
        boss = {"Authorization": f"Bearer {ApiKey.parse(keys['admin']).bearer_credential()}"}
        retention = f"/api/logs/{'A' * 43}/retention"
        cases += [
            ("PUT", retention, boss, {"max_entries": PLAINTEXT}),
            ("PUT", retention, boss, {PLAINTEXT: 1}),
            ("PUT", retention, bearer, {"max_entries": PLAINTEXT}),
            ("POST", "/api/users/mia/keys", bearer, {"key_id": keys["mia"]}),
            ("POST", f"/api/logs/{'A' * 43}/entries", bearer, {"entries": [{"id": PHRASE}]}),
        ]
        for method, path, headers, body in cases:
            response = await raw.request(method, path, headers=headers, json=body)
            assert 400 <= response.status_code < 500, (path, response.status_code)
        response = await raw.put(
            retention, headers={**boss, "content-type": "application/json"},
            content=f'{{"max_entries": "{PHRASE}"'.encode(),
        )  # fmt: skip
        assert response.status_code == 400
    for c in (admin, member, auditor, admin2):
        http = c._transport._http
        await c.close()
        await http.aclose()

    hygiene_server.terminate()  # flush the server's output
    places = {
        "server output": hygiene_server.log().encode(),
        "Redis": redis_dump(redis_url),
    }
    for path, status, body in rec.bodies:
        places[f"response {status} {path}"] = body
    forms = set().union(*(encodings(s) for s in secrets_text + secrets_raw))
    leaks = [
        f"{where}: {form[:24]!r}..."
        for where, blob in places.items()
        for form in forms
        if form in blob
    ]
    assert not leaks, "secrets found:\n" + "\n".join(sorted(set(leaks)))
    assert len(rec.bodies) > 40 and len(places["Redis"]) > 1000
