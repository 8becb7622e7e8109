"""The PKCS#11 custody plugin, pip-installed, against a real SoftHSM2 token."""

from __future__ import annotations

import os

import pkcs11
import pytest
from pkcs11 import Attribute, KeyType, ObjectClass
from softhsm import install_pkcs11_plugin, softhsm_token

from neurallog.errors import CustodyError
from neurallog.plugins import get_custody, list_custody


@pytest.fixture
def token() -> None:
    softhsm_token()
    install_pkcs11_plugin()


def test_pkcs11_plugin_is_found_as_an_installed_distribution(token: None) -> None:
    infos = {info.name: info for info in list_custody()}
    assert infos["pkcs11"].origin == "neurallog-custody-pkcs11 0.1.0"
    assert infos["pkcs11"].kind == "custody"
    assert infos["keyring"].origin == "builtin"


def test_wrap_and_unwrap_on_softhsm(token: None) -> None:
    plugin = get_custody("pkcs11")
    secret = os.urandom(32)
    blob = plugin.wrap("hsm-corp", "admin", secret)
    assert secret not in blob and len(blob) == 1 + 1 + len("neurallog-custody") + 12 + 32 + 16
    assert plugin.unwrap("hsm-corp", "admin", blob) == secret
    assert plugin.wrap("hsm-corp", "admin", secret) != blob  # a fresh nonce every time
    with pytest.raises(CustodyError, match="could not unwrap"):
        plugin.unwrap("hsm-corp", "mallory", blob)  # bound to tenant and user
    with pytest.raises(CustodyError, match="could not unwrap"):
        plugin.unwrap("hsm-corp", "admin", blob[:-1] + bytes([blob[-1] ^ 1]))


def test_wrapping_key_is_non_extractable_and_sensitive(token: None) -> None:
    t = softhsm_token()
    get_custody("pkcs11").wrap("hsm-corp", "admin", os.urandom(32))  # creates the key
    lib = pkcs11.lib(t.module)
    with lib.get_token(token_label=t.label).open(user_pin=t.pin) as session:
        key = session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label="neurallog-custody")
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.TOKEN] is True
        assert key[Attribute.ENCRYPT] is True and key[Attribute.WRAP] is True
        with pytest.raises(pkcs11.exceptions.AttributeSensitive):
            key[Attribute.VALUE]


def test_wrong_pin_fails_closed(token: None, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = get_custody("pkcs11")
    blob = plugin.wrap("hsm-corp", "admin", os.urandom(32))
    monkeypatch.setenv("NEURALLOG_PKCS11_PIN", "0000-wrong")
    with pytest.raises(CustodyError, match="PinIncorrect"):
        plugin.unwrap("hsm-corp", "admin", blob)
    monkeypatch.delenv("NEURALLOG_PKCS11_PIN")
    with pytest.raises(CustodyError, match="RuntimeError"):
        plugin.unwrap("hsm-corp", "admin", blob)
