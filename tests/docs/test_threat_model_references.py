"""docs/threat-model.md backs each claim with a test; every test it names must exist.

A reference is ``path/to/test_file.py::test_name`` (relative to tests/) or ``::test_name``,
which continues the file named last; a file named alone (``dir/test_x.py``) must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "threat-model.md"
REF = re.compile(r"`((?:[\w/]+/)?test_\w+\.py)?(?:::(\w+))?`")


def references() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    current: str | None = None
    for match in REF.finditer(DOC.read_text()):
        path, name = match.group(1), match.group(2)
        if path is None and name is None:
            continue
        if path is not None:
            current = path
        if current is None:
            raise AssertionError(f"`::{name}` names no file before it")
        found.append((current, name))
    return found


def test_every_named_test_exists() -> None:
    refs = references()
    assert len(refs) > 50
    missing = []
    for path, name in refs:
        source = ROOT / "tests" / path
        if not source.is_file():
            missing.append(path)
            continue
        if name and not re.search(rf"^\s*(async )?def {name}\(", source.read_text(), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, f"docs/threat-model.md names tests that do not exist: {missing}"
