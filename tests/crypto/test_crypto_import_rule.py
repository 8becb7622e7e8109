"""The zero-knowledge promise made checkable: server and storage never import crypto."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("neurallog.crypto", "neurallog_plugins", "neurallog_tui")


def imported_modules(path: Path, package: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", "") == "__import__"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            found.add(str(node.args[0].value))
    return found


def package_files(name: str) -> list[Path]:
    return sorted((ROOT / "neurallog" / name).rglob("*.py"))


@pytest.mark.parametrize("pkg", ["server", "storage"])
def test_server_and_storage_never_import_crypto(pkg: str) -> None:
    files = package_files(pkg)
    assert files, f"neurallog/{pkg} has no Python files"
    for path in files:
        rel = path.relative_to(ROOT).with_suffix("")
        package = ".".join(rel.parts[:-1])  # a module's package, or an __init__'s own
        for module in imported_modules(path, package):
            bad = [f for f in FORBIDDEN if module == f or module.startswith(f + ".")]
            assert not bad, f"{path.relative_to(ROOT)} imports {module}"


def test_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from neurallog.crypto import envelope\nfrom .. import crypto\n")
    found = imported_modules(bad, "neurallog.server")
    assert "neurallog.crypto" in found and "neurallog.crypto" in {
        m for m in found if m.startswith("neurallog.crypto")
    }
