"""The plugin manager: finds KDF, cipher and custody plugins and hands out checked wrappers.

Built-ins and third-party plugins take the same path: entry points in the group
``neurallog``, loaded on first use (never at import time), then each plugin's
``neurallog_register_kdfs`` / ``neurallog_register_ciphers`` hook is called with a
``register`` callback. Algorithm names are written into profiles and ciphertexts, so a
name registered twice is an error naming both plugins, never a silent override.

``NEURALLOG_PLUGINS_DISABLE`` (comma separated entry-point or distribution names) blocks
installed plugins before they are imported.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import threading
from collections.abc import Callable
from typing import Any, Literal, cast

import pluggy

from neurallog import hookspecs
from neurallog.errors import (
    DuplicateAlgorithmError,
    PluginError,
    PluginFailedError,
    UnknownAlgorithmError,
)
from neurallog.plugin_checks import CheckedCipher, CheckedCustody, CheckedKdf, PluginInfo

__all__ = [
    "DISABLE_ENV",
    "ENTRY_POINT_GROUP",
    "CheckedCipher",
    "CheckedCustody",
    "CheckedKdf",
    "PluginInfo",
    "get_cipher",
    "get_custody",
    "get_kdf",
    "get_plugin_manager",
    "list_ciphers",
    "list_custody",
    "list_kdfs",
    "register_plugin",
    "reset_plugins",
]

ENTRY_POINT_GROUP = "neurallog"
DISABLE_ENV = "NEURALLOG_PLUGINS_DISABLE"
BUILTIN_DISTRIBUTION = "neurallog"
NAME_RULE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
"""Algorithm names: lowercase ASCII letters, digits and inner hyphens, at most 64 chars."""

Kind = Literal["kdf", "cipher", "custody"]
_HOOKS: tuple[tuple[str, Kind], ...] = (
    ("neurallog_register_kdfs", "kdf"),
    ("neurallog_register_ciphers", "cipher"),
    ("neurallog_register_custody", "custody"),
)
Checked = CheckedKdf | CheckedCipher | CheckedCustody


def _normalise_dist(name: str) -> str:
    """PEP 503 normalisation, so ``My_Plugin`` and ``my-plugin`` match."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _disabled() -> set[str]:
    raw = os.environ.get(DISABLE_ENV, "")
    return {_normalise_dist(part.strip()) for part in raw.split(",") if part.strip()}


def _dist_origin(dist: Any) -> str:
    """``"builtin"`` for this package, else ``"<name> <version>"`` (an importlib or pluggy dist)."""
    name = str(dist.metadata["Name"] or "unknown")
    if _normalise_dist(name) == BUILTIN_DISTRIBUTION:
        return "builtin"
    return f"{name} {dist.version}"


class _Registry:
    """One loaded set of plugins: the pluggy manager plus the algorithms by name."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.kdfs: dict[str, CheckedKdf] = {}
        self.ciphers: dict[str, CheckedCipher] = {}
        self.custody: dict[str, CheckedCustody] = {}

    # --- loading ---------------------------------------------------------------------------

    def load_installed(self) -> None:
        """Load every non-blocked entry point, then collect what each plugin registers."""
        disabled = _disabled()
        seen: dict[str, tuple[str, str]] = {}  # entry-point name -> (dist key, origin)
        order: list[tuple[str, str]] = []
        for dist in importlib.metadata.distributions():
            dist_key = _normalise_dist(dist.metadata["Name"] or "")
            for ep in dist.entry_points:
                if ep.group != ENTRY_POINT_GROUP:
                    continue
                origin = _dist_origin(dist)
                if ep.name in seen:
                    if seen[ep.name][0] != dist_key:  # same dist twice on sys.path is fine
                        raise PluginError(
                            f"entry point {ep.name!r} in group {ENTRY_POINT_GROUP!r} is "
                            f"provided by both {seen[ep.name][1]} and {origin}; "
                            f"uninstall one or list it in {DISABLE_ENV}"
                        )
                    continue
                seen[ep.name] = (dist_key, origin)
                if _normalise_dist(ep.name) in disabled or dist_key in disabled:
                    self.pm.set_blocked(ep.name)
                    continue
                order.append((ep.name, origin))
        for ep_name, origin in order:
            try:
                self.pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=ep_name)
            except Exception as exc:
                raise PluginFailedError(
                    f"plugin {ep_name!r} ({origin}) failed to load: "
                    f"{type(exc).__name__}: {exc}; set {DISABLE_ENV}={ep_name} to skip it"
                ) from exc
        self._check_pending()
        for name, plugin in self.pm.list_name_plugin():
            if plugin is not None:
                self._merge(self._collect(plugin, name, self._origin_of(plugin, name)))

    def add_runtime(self, plugin: object, name: str | None) -> str:
        """Register ``plugin`` now; on any error the manager is left as it was."""
        try:
            plugin_name = self.pm.register(plugin, name=name)
        except Exception as exc:
            raise PluginFailedError(
                f"plugin {name or plugin!r} cannot be registered: {exc}"
            ) from exc
        if plugin_name is None:  # blocked name
            raise PluginError(f"plugin name {name!r} is blocked by {DISABLE_ENV}")
        try:
            self._check_pending()
            self._merge(self._collect(plugin, plugin_name, f"runtime:{plugin_name}"))
        except BaseException:
            self.pm.unregister(plugin)
            raise
        return plugin_name

    def _check_pending(self) -> None:
        """``pm.check_pending()``: a hookimpl matching no spec (a misspelling) is an error."""
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            name = self.pm.get_name(exc.plugin) or repr(exc.plugin)
            origin = self._origin_of(exc.plugin, name)
            hint = "" if origin.startswith("runtime:") else f"; set {DISABLE_ENV}={name} to skip it"
            raise PluginFailedError(f"plugin {name!r} ({origin}) is invalid: {exc}{hint}") from exc

    def _origin_of(self, plugin: object, name: str) -> str:
        for candidate, dist in self.pm.list_plugin_distinfo():
            if candidate is plugin:
                return _dist_origin(dist)
        return f"runtime:{name}"

    # --- collecting ------------------------------------------------------------------------

    def _collect(self, plugin: object, plugin_name: str, origin: str) -> list[Checked]:
        """Call this one plugin's hooks; failures name the plugin and its distribution."""
        found: list[Checked] = []
        for hook_name, kind in _HOOKS:
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin or impl.hookwrapper or impl.wrapper:
                    continue
                objects: list[object] = []
                register: Callable[[object], None] = objects.append
                kwargs: dict[str, Any] = {"register": register} if impl.argnames else {}
                try:
                    impl.function(**kwargs)
                except Exception as exc:
                    raise PluginFailedError(
                        f"plugin {plugin_name!r} ({origin}) raised {type(exc).__name__} in "
                        f"{hook_name}: {exc}; set {DISABLE_ENV}={plugin_name} to skip it"
                    ) from exc
                for obj in objects:
                    found.append(_wrap(obj, kind, plugin_name, origin))
        return found

    def _merge(self, found: list[Checked]) -> None:
        """Add all of ``found`` or, on a duplicate name, nothing."""
        kdfs, ciphers, custody = dict(self.kdfs), dict(self.ciphers), dict(self.custody)
        for item in found:
            table: dict[str, Any] = (
                kdfs
                if isinstance(item, CheckedKdf)
                else custody
                if isinstance(item, CheckedCustody)
                else ciphers
            )
            if item.name in table:
                first = table[item.name].info
                raise DuplicateAlgorithmError(
                    f"{item.info.kind} {item.name!r} is registered by both plugin "
                    f"{first.plugin!r} ({first.origin}) and plugin {item.info.plugin!r} "
                    f"({item.info.origin}); algorithm names are written into profiles and "
                    f"ciphertexts, so one of them must be removed or listed in {DISABLE_ENV}"
                )
            table[item.name] = item
        self.kdfs, self.ciphers, self.custody = kdfs, ciphers, custody


def _wrap(obj: object, kind: Kind, plugin_name: str, origin: str) -> Checked:
    """Check the shape of a registered object and put it behind its checked wrapper."""
    where = f"plugin {plugin_name!r} ({origin})"
    name = getattr(obj, "name", None)
    if not isinstance(name, str) or not NAME_RULE.match(name):
        raise PluginFailedError(
            f"{where} registered a {kind} with invalid name {name!r}: names are lowercase "
            "letters, digits and inner hyphens, at most 64 characters"
        )
    info = PluginInfo(name=name, kind=kind, origin=origin, plugin=plugin_name)
    if kind == "custody":
        if not (callable(getattr(obj, "wrap", None)) and callable(getattr(obj, "unwrap", None))):
            raise PluginFailedError(f"{where}: custody {name!r} needs wrap() and unwrap()")
        return CheckedCustody(cast(hookspecs.CustodyPlugin, obj), info)
    if kind == "kdf":
        if not callable(getattr(obj, "derive", None)) or not isinstance(
            getattr(obj, "default_params", None), dict
        ):
            raise PluginFailedError(f"{where}: kdf {name!r} needs derive() and default_params")
        return CheckedKdf(cast(hookspecs.KdfPlugin, obj), info)
    sizes = {attr: getattr(obj, attr, None) for attr in ("key_size", "nonce_size", "tag_size")}
    bounds = {"key_size": (16, 64), "nonce_size": (8, 64), "tag_size": (12, 64)}
    for attr, value in sizes.items():
        low, high = bounds[attr]
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise PluginFailedError(
                f"{where}: cipher {name!r} has {attr}={value!r}, expected an int in {low}..{high}"
            )
    if not (callable(getattr(obj, "encrypt", None)) and callable(getattr(obj, "decrypt", None))):
        raise PluginFailedError(f"{where}: cipher {name!r} needs encrypt() and decrypt()")
    return CheckedCipher(cast(hookspecs.CipherPlugin, obj), info)


_lock = threading.RLock()
_registry: _Registry | None = None


def _loaded() -> _Registry:
    """The registry, loading installed plugins on first use (not cached if loading fails)."""
    global _registry
    with _lock:
        if _registry is None:
            registry = _Registry()
            registry.load_installed()
            _registry = registry
        return _registry


def get_plugin_manager() -> pluggy.PluginManager:
    """The pluggy manager with installed plugins loaded."""
    return _loaded().pm


def get_kdf(name: str) -> CheckedKdf:
    """The KDF registered as ``name``, behind argument and output checks."""
    registry = _loaded()
    try:
        return registry.kdfs[name]
    except KeyError:
        raise UnknownAlgorithmError(_unknown("kdf", name, registry.kdfs)) from None


def get_cipher(name: str) -> CheckedCipher:
    """The AEAD cipher registered as ``name``, behind argument and output checks."""
    registry = _loaded()
    try:
        return registry.ciphers[name]
    except KeyError:
        raise UnknownAlgorithmError(_unknown("cipher", name, registry.ciphers)) from None


def _unknown(kind: str, name: object, table: dict[str, Any]) -> str:
    available = ", ".join(sorted(table)) or "none"
    return f"unknown {kind} {name!r}; available: {available}"


def get_custody(name: str) -> CheckedCustody:
    """The custody plugin registered as ``name``, behind argument and output checks."""
    registry = _loaded()
    try:
        return registry.custody[name]
    except KeyError:
        raise UnknownAlgorithmError(_unknown("custody plugin", name, registry.custody)) from None


def list_custody() -> list[PluginInfo]:
    """Every registered custody plugin, sorted by name."""
    return [item.info for _, item in sorted(_loaded().custody.items())]


def list_kdfs() -> list[PluginInfo]:
    """Every registered KDF, sorted by name."""
    return [kdf.info for _, kdf in sorted(_loaded().kdfs.items())]


def list_ciphers() -> list[PluginInfo]:
    """Every registered cipher, sorted by name."""
    return [cipher.info for _, cipher in sorted(_loaded().ciphers.items())]


def register_plugin(plugin: object, name: str | None = None) -> str:
    """Add a plugin object (module, class instance) at run time; returns its plugin name.

    Installed plugins load first, so a clash with one of their names is reported here.
    """
    registry = _loaded()
    with _lock:
        return registry.add_runtime(plugin, name)


def reset_plugins() -> None:
    """Forget everything loaded or registered; the next call loads installed plugins again."""
    global _registry
    with _lock:
        _registry = None
