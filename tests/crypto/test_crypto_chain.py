"""The tenant chain: known answers, every ServerIntegrityError reason from a tampered chain,
and incremental verification equal to a full replay."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from neurallog.crypto._util import b64url
from neurallog.crypto.chain import (
    GENESIS_PREV,
    AuditCheckpoint,
    Link,
    SignedLink,
    TenantState,
    sign_link,
    verify_chain,
)
from neurallog.errors import ServerIntegrityError

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "chain_links.json").read_text("utf-8")
)
SEED = bytes.fromhex(VECTORS["ed25519_seed_hex"])
KEY = Ed25519PrivateKey.from_private_bytes(SEED)
PUB = bytes.fromhex(VECTORS["signing_public_key_hex"])
TENANT = "acme"
V1 = "6f1c2a3e-0b4d-4e5f-8a9b-0c1d2e3f4a5b"
V2 = "0b7e9d52-3c1a-4f6e-9d8b-7a6c5b4e3d2f"
V3 = "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5"
FP = hashlib.sha256(b"k").hexdigest()
PROFILE = {"kdf": "argon2id", "kdf_params": {"time_cost": 3}, "kem": "x25519", "cipher": "c"}


class Builder:
    """Signs links in order under KEY, each naming the previous one's hash."""

    def __init__(self, key: Ed25519PrivateKey = KEY, tenant: str = TENANT) -> None:
        self.key, self.tenant, self.links = key, tenant, list[SignedLink]()

    def add(self, kind: str, body: dict[str, Any], audit: AuditCheckpoint | None = None) -> Builder:
        prev = self.links[-1].link.link_hash() if self.links else GENESIS_PREV
        link = Link(self.tenant, len(self.links), prev, 1_767_225_600, kind, body, audit)
        self.links.append(sign_link(link, self.key))
        return self


def base() -> Builder:
    return (
        Builder()
        .add("profile", PROFILE)
        .add("member.enrol", {"user_id": "alice", "role": "admin", "fingerprint": FP})
        .add("version.create", {"version_id": V1})
    )


def reason(links: list[SignedLink], **kw: Any) -> str:
    with pytest.raises(ServerIntegrityError) as info:
        verify_chain(links, PUB, TENANT, **kw)
    assert SEED.hex() not in str(info.value)
    return info.value.reason


# --- known answers ---------------------------------------------------------------------------


def test_ed25519_matches_rfc8032_test1() -> None:
    """The vector's key is RFC 8032 TEST 1: the Ed25519 used here is the standard one."""
    pub = KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert pub.hex() == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert KEY.sign(b"").hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555f"
        "b8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    assert pub == PUB


def test_vectors_recompute_independently_and_with_the_module() -> None:
    prev = GENESIS_PREV
    signed = []
    for case in VECTORS["links"]:
        canon = json.dumps(
            case["link"], sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()
        assert canon.hex() == case["canonical_hex"]
        digest = hashlib.sha256(b"neurallog/v1/chain-link-hash\x00" + canon).digest()
        assert digest.hex() == case["hash_hex"]
        sig = KEY.sign(b"neurallog/v1/chain-link-signature\x00" + canon)  # Ed25519: deterministic
        assert b64url(sig) == case["signature_b64url"]
        link = Link.from_dict(case["link"])
        assert link.prev == prev
        assert link.canonical_bytes() == canon
        assert link.link_hash() == digest
        assert sign_link(link, KEY).signature == sig
        text = json.dumps({"link": case["link"], "sig": case["signature_b64url"]})
        parsed = SignedLink.from_json(text)
        assert parsed == SignedLink.from_json(parsed.to_json())
        signed.append(parsed)
        prev = digest
    state = verify_chain(signed, PUB, VECTORS["tenant_id"])
    want = VECTORS["final_state"]
    assert state.head.seq == want["head_seq"] and state.head.hash == prev
    assert state.active_version == want["active_version"]
    assert dict(state.versions) == want["versions"]
    assert {u: [m.role, m.fingerprint, m.state] for u, m in state.members.items()} == want[
        "members"
    ]
    assert sorted(state.active_members()) == want["active_members"]
    assert state.audit is not None and state.audit.as_dict() == want["audit"]
    assert state.rotate_every_days == want["rotate_every_days"]
    assert state.active_since == want["active_since"]
    assert {v: c.hex() for v, c in state.kek_commits.items()} == want["kek_commits"]


# --- state ---------------------------------------------------------------------------------


def test_policy_link_sets_the_rotation_policy_and_the_active_version_time() -> None:
    """The policy and the active version's signed time come from the chain alone."""
    b = base()
    state = verify_chain(b.links, PUB, TENANT)
    assert state.rotate_every_days == 0 and state.active_since == 1_767_225_600
    b.add("policy", {"rotate_every_days": 30})
    assert verify_chain(b.links, PUB, TENANT).rotate_every_days == 30
    b.add("policy", {"rotate_every_days": 0})
    assert verify_chain(b.links, PUB, TENANT).rotate_every_days == 0
    b.add("version.status", {"version_id": V1, "status": "deprecated"})
    assert verify_chain(b.links, PUB, TENANT).active_since is None


@pytest.mark.parametrize(
    "body",
    [
        {"rotate_every_days": 3651},
        {"rotate_every_days": -1},
        {"rotate_every_days": "30"},
        {"rotate_every_days": True},
        {"rotate_every_days": 30, "extra": 1},
        {},
    ],
)
def test_policy_link_with_a_bad_body_is_a_bad_link(body: dict[str, Any]) -> None:
    data = base().links[-1].link.as_dict() | {"seq": 3, "kind": "policy", "body": body}
    with pytest.raises(ServerIntegrityError) as info:
        Link.from_dict(data)
    assert info.value.reason == "bad_link"


def test_state_helpers() -> None:
    b = base().add("member.enrol", {"user_id": "aud", "role": "auditor", "fingerprint": FP})
    b.add("member.enrol", {"user_id": "bob", "role": "member", "fingerprint": FP})
    b.add("member.disable", {"user_id": "bob"})
    state = verify_chain(b.links, PUB, TENANT)
    assert state.active_members() == frozenset({"alice"})
    state.require_active_version(V1)
    with pytest.raises(ServerIntegrityError) as info:
        state.require_active_version(V2)
    assert info.value.reason == "illegal_transition"
    # A disabled member comes back only by a fresh enrolment restating role and key.
    b.add("member.enrol", {"user_id": "bob", "role": "member", "fingerprint": FP})
    assert verify_chain(b.links, PUB, TENANT).active_members() == {"alice", "bob"}


def test_incremental_extend_equals_full_replay() -> None:
    b = base()
    b.add("member.enrol", {"user_id": "bob", "role": "member", "fingerprint": FP})
    b.add("rotation", {"version_id": V2, "removed_users": ["bob"]}, AuditCheckpoint(3, FP))
    b.add("version.status", {"version_id": V1, "status": "destroyed"})
    full = verify_chain(b.links, PUB, TENANT)
    partial = verify_chain(b.links[:2], PUB, TENANT)
    step: TenantState = partial
    for link in b.links[2:]:
        step = step.extend([link])
    assert partial.extend(b.links[2:]) == full == step
    assert full.versions == {V1: "destroyed", V2: "active"}
    assert full.extend([]) == full


# --- every failure reason ------------------------------------------------------------------


def test_flipped_signature_is_bad_signature() -> None:
    links = base().links
    sig = bytearray(links[1].signature)
    sig[0] ^= 1
    links[1] = SignedLink(links[1].link, bytes(sig))
    assert reason(links) == "bad_signature"


def test_link_signed_by_another_key_is_bad_signature() -> None:
    links = base().links
    links[2] = sign_link(links[2].link, Ed25519PrivateKey.generate())
    assert reason(links) == "bad_signature"


def test_replaced_link_is_bad_signature_and_a_signed_branch_is_a_fork() -> None:
    links = base().links
    forged = replace(links[1].link, body={"user_id": "mallory", "role": "admin", "fingerprint": FP})
    assert reason([links[0], SignedLink(forged, links[1].signature), links[2]]) == "bad_signature"
    # Two admins signed different link 1s: the server stitched branch B's link 1 in.
    other = sign_link(forged, KEY)
    assert reason([links[0], other, links[2]]) == "fork"


def test_dropped_link_and_seq_gap_are_truncated() -> None:
    links = base().links
    assert reason([links[0], links[2]]) == "truncated"
    assert reason(links[1:]) == "truncated"
    assert reason([]) == "truncated"


def test_repeated_link_is_bad_link() -> None:
    links = base().links
    assert reason([links[0], links[1], links[1], links[2]]) == "bad_link"


def test_wrong_tenant() -> None:
    other = Builder(tenant="other").add("profile", PROFILE).links
    assert reason(other) == "wrong_tenant"


def test_fork_against_trusted_head() -> None:
    links = base().links
    trusted = (1, links[1].link.link_hash())
    verify_chain(links, PUB, TENANT, trusted_head=trusted)
    branch = Builder().add("profile", PROFILE)
    branch.add("member.enrol", {"user_id": "bob", "role": "admin", "fingerprint": FP})
    branch.add("version.create", {"version_id": V1})
    assert reason(branch.links, trusted_head=trusted) == "fork"


def test_shorter_than_trusted_head_is_rollback() -> None:
    links = base().links
    trusted = (2, links[2].link.link_hash())
    assert reason(links[:2], trusted_head=trusted) == "rollback"


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("version.status", {"version_id": V1, "status": "active"}),  # a second active
        ("version.create", {"version_id": V1}),  # id reused
        ("version.status", {"version_id": V3, "status": "deprecated"}),  # unknown version
        ("member.enrol", {"user_id": "alice", "role": "member", "fingerprint": FP}),
        ("member.role", {"user_id": "nobody", "role": "member"}),
        ("rotation", {"version_id": V2, "removed_users": ["nobody"]}),
    ],
)
def test_illegal_transitions(kind: str, body: dict[str, Any]) -> None:
    assert reason(base().add(kind, body).links) == "illegal_transition"


def test_two_active_versions_are_refused() -> None:
    b = base().add("version.create", {"version_id": V2})
    assert verify_chain(b.links, PUB, TENANT).versions == {V1: "decrypt-only", V2: "active"}
    assert reason(b.add("version.status", {"version_id": V1, "status": "active"}).links) == (
        "illegal_transition"
    )


def test_destroyed_version_is_terminal() -> None:
    b = base().add("version.create", {"version_id": V2})
    b.add("version.status", {"version_id": V1, "status": "destroyed"})
    verify_chain(b.links, PUB, TENANT)
    b.add("version.status", {"version_id": V1, "status": "decrypt-only"})
    assert reason(b.links) == "illegal_transition"


def test_status_links_follow_the_servers_table_and_the_pre_chain_demotion() -> None:
    """wire.vocab.STATUS_CHANGES, which the server's scripts apply too: the active version
    is never destroyed; a tenant made before the chain may record its newest version as
    decrypt-only or deprecated (genesis_links)."""
    assert reason(
        base().add("version.status", {"version_id": V1, "status": "destroyed"}).links
    ) == ("illegal_transition")
    for status in ("decrypt-only", "deprecated"):
        b = base().add("version.status", {"version_id": V1, "status": status})
        assert verify_chain(b.links, PUB, TENANT).versions == {V1: status}
    b = base().add("version.create", {"version_id": V2})
    b.add("version.status", {"version_id": V1, "status": "deprecated"})
    b.add("version.status", {"version_id": V1, "status": "decrypt-only"})
    b.add("version.status", {"version_id": V1, "status": "destroyed"})
    assert verify_chain(b.links, PUB, TENANT).versions == {V1: "destroyed", V2: "active"}


def test_removed_member_cannot_be_enrolled_again() -> None:
    b = base().add("member.enrol", {"user_id": "bob", "role": "member", "fingerprint": FP})
    b.add("member.remove", {"user_id": "bob"})
    b.add("member.enrol", {"user_id": "bob", "role": "member", "fingerprint": FP})
    assert reason(b.links) == "illegal_transition"


def test_audit_checkpoint_moving_backwards_is_illegal() -> None:
    b = base().add("member.role", {"user_id": "alice", "role": "member"}, AuditCheckpoint(5, FP))
    b.add("member.role", {"user_id": "alice", "role": "admin"}, AuditCheckpoint(4, FP))
    assert reason(b.links) == "illegal_transition"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.update(seq=-1),
        lambda d: d.update(time=1.5),
        lambda d: d.update(kind="member.promote"),
        lambda d: d.update(extra=1),
        lambda d: d["body"].update(kdf_params={"x": 0.5}),
        lambda d: d["body"].pop("kem"),
        lambda d: d.update(prev="00"),
        lambda d: d.update(v=2),
    ],
)
def test_malformed_links_are_bad_link(mutate: Any) -> None:
    data = base().links[0].link.as_dict()
    mutate(data)
    with pytest.raises(ServerIntegrityError) as info:
        Link.from_dict(data)
    assert info.value.reason == "bad_link"


def test_malformed_signed_link_json_is_bad_link() -> None:
    good = json.loads(base().links[0].to_json())
    for text in ("[]", "{", json.dumps({**good, "sig": "!!"}), json.dumps({"link": good["link"]})):
        with pytest.raises(ServerIntegrityError) as info:
            SignedLink.from_json(text)
        assert info.value.reason == "bad_link"


def test_genesis_must_be_a_profile_with_zero_prev() -> None:
    wrong_kind = Builder().add("version.create", {"version_id": V1}).links
    assert reason(wrong_kind) == "bad_link"
    link = replace(base().links[0].link, prev=b"\x01" * 32)
    assert reason([sign_link(link, KEY)]) == "bad_link"
