"""``neurallog admin`` is wired to the console and validates its flags."""

from __future__ import annotations

import pytest

from neurallog.cli import build_parser


def test_admin_subcommand_flags() -> None:
    args = build_parser().parse_args(
        ["admin", "--url", "http://127.0.0.1:9", "--tenant", "acme", "--lock-after", "60"]
    )
    assert (args.command, args.url, args.tenant, args.lock_after) == (
        "admin",
        "http://127.0.0.1:9",
        "acme",
        60,
    )


def test_admin_rejects_bad_tenant() -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["admin", "--tenant", "Not A Tenant"])
    assert exit_info.value.code == 2
