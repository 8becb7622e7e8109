"""Each KDF's floor for new tenants: exact boundaries of the built-ins, and a third-party
plugin declaring (or not declaring, or botching) its own."""

from __future__ import annotations

from typing import Any

import pytest

import neurallog
from neurallog.errors import PluginFailedError, WeakKdfError
from neurallog.hookspecs import RegisterKdf
from neurallog.plugins import get_kdf, register_plugin

MIB = 1024  # argon2 m is in KiB

# (kdf, parameters exactly at the floor, parameters one step below, floor named in the error)
BOUNDARIES = [
    ("argon2id", {"t": 3, "m": 64 * MIB, "p": 1}, {"t": 3, "m": 64 * MIB - 1}, "m>=65536"),
    ("argon2id", {"t": 3, "m": 64 * MIB, "p": 4}, {"t": 2, "m": 64 * MIB}, "t*m>=196608"),
    ("pbkdf2-sha256", {"iterations": 600_000}, {"iterations": 599_999}, "iterations>=600000"),
    ("scrypt", {"n": 2**17, "r": 8, "p": 1}, {"n": 2**16, "r": 8}, "n>=131072"),
    ("scrypt", {"n": 2**17, "r": 8, "p": 1}, {"n": 2**17, "r": 7}, "r>=8"),
]


@pytest.mark.parametrize(("kdf", "at", "below", "floor"), BOUNDARIES)
def test_builtin_floor_boundaries(
    kdf: str, at: dict[str, int], below: dict[str, int], floor: str
) -> None:
    plugin = get_kdf(kdf)
    assert plugin.below_floor(at) == []
    found = plugin.below_floor(below)
    assert found and any(floor in reason for reason in found), found


def test_defaults_meet_the_floors_and_rfc9106_first_option_passes() -> None:
    for name in ("argon2id", "pbkdf2-sha256", "scrypt"):
        assert get_kdf(name).below_floor({}) == [], name
    assert get_kdf("bip39").below_floor({}, 64) == []  # a mnemonic's strength is its bits
    # RFC 9106 first recommended option: t=1 with 2 GiB; more memory for fewer passes
    assert get_kdf("argon2id").below_floor({"t": 1, "m": 2 * 1024 * MIB, "p": 4}) == []


def test_legacy_kdf_is_legacy_only_and_below_the_floor() -> None:
    legacy = get_kdf("neurallog-legacy")
    assert legacy.legacy_only and not get_kdf("argon2id").legacy_only
    assert any("600000" in reason for reason in legacy.below_floor({}))


def test_floor_checks_parameters_first() -> None:
    with pytest.raises(ValueError, match="iterations"):
        get_kdf("pbkdf2-sha256").below_floor({"iterations": 0})
    with pytest.raises(TypeError):
        get_kdf("scrypt").below_floor({"n": "big"})


class CountingKdf:
    """A third-party KDF that declares its own floor (rounds >= 10)."""

    name = "rounds-test"

    def __init__(self) -> None:
        self.default_params: dict[str, Any] = {"rounds": 10}

    def derive(self, secret: bytes, salt: bytes, length: int, **params: Any) -> bytes:
        return (secret + salt)[:length].ljust(length, b"\0")

    def below_floor(self, params: dict[str, Any]) -> list[str]:
        if params["rounds"] >= 10:
            return []
        return [f"{self.name}: rounds={params['rounds']} is below the floor rounds>=10"]


class NoFloorKdf(CountingKdf):
    name = "nofloor-test"
    below_floor = None  # type: ignore[assignment]


class BrokenFloorKdf(CountingKdf):
    name = "badfloor-test"

    def below_floor(self, params: dict[str, Any]) -> list[str]:
        return "too weak"  # type: ignore[return-value]


class ThreeKdfs:
    @neurallog.hookimpl
    def neurallog_register_kdfs(self, register: RegisterKdf) -> None:
        register(CountingKdf())
        register(NoFloorKdf())
        register(BrokenFloorKdf())


def test_thirdparty_kdf_declares_its_own_floor() -> None:
    from neurallog.crypto.strength import kdf_shortfalls, require_new_tenant_kdf

    register_plugin(ThreeKdfs(), name="floors-test")
    assert get_kdf("rounds-test").has_floor
    require_new_tenant_kdf("rounds-test", {})
    with pytest.raises(WeakKdfError, match=r"rounds=3 is below the floor rounds>=10"):
        require_new_tenant_kdf("rounds-test", {"rounds": 3})
    assert kdf_shortfalls("rounds-test", {"rounds": 3}) == (
        "rounds-test: rounds=3 is below the floor rounds>=10",
    )
    # No declared floor: nothing to enforce (docs/plugins.md asks plugins to declare one).
    assert not get_kdf("nofloor-test").has_floor
    require_new_tenant_kdf("nofloor-test", {"rounds": 1})
    # A floor check that answers nonsense is the plugin's failure, named as such.
    with pytest.raises(PluginFailedError, match=r"badfloor-test.*list of str"):
        get_kdf("badfloor-test").below_floor({})
