"""API keys, bearer credentials and bootstrap tokens: formats of docs/api.md."""

from __future__ import annotations

import hashlib
import re

import pytest

from neurallog.crypto import labels as L
from neurallog.crypto._util import b64url, hkdf_sha256
from neurallog.crypto.apikeys import ApiKey, BearerCredential, BootstrapToken
from neurallog.crypto.hierarchy import KeyHierarchy
from neurallog.errors import InvalidApiKeyError

H = KeyHierarchy.from_recovery_phrase("acme", "p", kdf="pbkdf2-sha256", params={"iterations": 1})


def test_generate_parse_round_trip_and_shape() -> None:
    key = ApiKey.generate("acme", H.signing_fingerprint)
    text = key.to_string()
    assert re.fullmatch(r"nlk1\.acme\.[0-9a-f]{32}\.[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}", text)
    assert ApiKey.parse(text) == key
    assert text.split(".")[4] == H.signing_fingerprint
    assert b64url(key.secret) not in repr(key) and b64url(key.secret) not in str(key)


def test_split_is_hkdf_with_bound_labels() -> None:
    key = ApiKey.generate("acme", H.signing_fingerprint)
    auth = hkdf_sha256(key.secret, salt=None, info=L.label(L.API_AUTH_TOKEN, "acme", key.key_id))
    assert key.auth_token == auth and key.slot_key != auth
    assert len(key.slot_key) == 32
    assert key.token_hash == hashlib.sha256(auth).hexdigest()
    bearer = key.bearer_credential()
    assert bearer == f"nla1.acme.{key.key_id}.{b64url(auth)}"
    parsed = BearerCredential.parse(bearer)
    assert (parsed.tenant_id, parsed.key_id, parsed.auth_token) == ("acme", key.key_id, auth)


def test_same_secret_other_key_id_gives_other_tokens() -> None:
    key = ApiKey.generate("acme", H.signing_fingerprint)
    other = ApiKey("acme", "f" * 32, key.secret, key.signing_fingerprint)
    assert other.auth_token != key.auth_token and other.slot_key != key.slot_key


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda t: t.replace("nlk1", "nlk2", 1), "start with 'nlk1'"),
        (lambda t: t.rsplit(".", 1)[0], "5 dot-separated"),
        (lambda t: t.replace(".acme.", ".ACME!.", 1), "tenant id"),
        (lambda t: ".".join([*t.split(".")[:2], "xyz", *t.split(".")[3:]]), "key id"),
        (lambda t: ".".join([*t.split(".")[:3], t.split(".")[3][:-2], t.split(".")[4]]), "secret"),
        (lambda t: t[:-3] + "$$$", "fingerprint"),
    ],
)
def test_parse_errors_are_clear_and_never_echo_secret(mutate: object, message: str) -> None:
    key = ApiKey.generate("acme", H.signing_fingerprint)
    text = key.to_string()
    bad = mutate(text)  # type: ignore[operator]
    with pytest.raises(InvalidApiKeyError, match=re.escape(message)) as err:
        ApiKey.parse(bad)
    secret_text = text.split(".")[3]
    assert secret_text[:20] not in str(err.value)


def test_bootstrap_token_round_trip() -> None:
    token = BootstrapToken.generate("acme")
    text = token.to_string()
    assert re.fullmatch(r"nlb1\.acme\.[A-Za-z0-9_-]{43}", text)
    assert BootstrapToken.parse(text) == token
    assert token.token_hash == hashlib.sha256(token.secret).hexdigest()
    assert text.split(".")[2] not in str(token)
    with pytest.raises(InvalidApiKeyError):
        BootstrapToken.parse("nlb1.acme.short")
